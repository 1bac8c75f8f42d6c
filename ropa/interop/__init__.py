"""Adapters to the field's own languages: Fides manifests and the fideslang taxonomy
(:mod:`ropa.interop.fides`, :mod:`ropa.interop.taxonomy`) and W3C DPV JSON-LD
(:mod:`ropa.interop.dpv`). They translate to and from the registry document and feed the
normal import and export machinery; `fideslang` and `rdflib` are imported only here, inside
the functions that need them."""
