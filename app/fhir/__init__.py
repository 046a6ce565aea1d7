"""The FHIR R5 face of the knowledge base: resources built from our records, FHIR search
parameters, and errors as OperationOutcome (docs/fhir.md)."""
