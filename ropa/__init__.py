"""ropa: a records-of-processing-activities registry (GDPR Article 30)."""

__version__ = "0.1.0"
