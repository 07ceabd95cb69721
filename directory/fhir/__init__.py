"""The directory as a FHIR R4 server: read and search practitioners, roles, locations, organizations.

- `codes`: the systems, extensions and the SNOMED CT codings beside the site's condition codes;
- `outcome`: OperationOutcome answers and the JSON-only rule (`application/fhir+json`);
- `resources`: one builder per resource type, from the models (what the public profile shows);
- `params`: the search parameters of each type and their checks (the site's limits);
- `search`: each search, run through the site's one search, and the searchset Bundle;
- `capability`: the CapabilityStatement, written from the search parameter table;
- `views`: the blueprint under /fhir/r4.
"""
