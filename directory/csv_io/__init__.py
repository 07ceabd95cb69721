"""CSV import and export of practitioners: the format of `import-practitioners` and
`export-practitioners`, and the functions the admin area's register upload reuses.

- `format`: the columns (the last ones optional), cell escaping against spreadsheet formulas, decoding, CsvImportError;
- `parser`: a file read into validated rows (`parse_csv`), blank coordinates geocoded (`geocode`);
- `importer`: rows written in one transaction (`import_practitioners`, `import_stream` for a file of
  any size, `ImportReport`), respecting unpublishing and practitioners' own texts;
- `spool`: validated rows kept on disk between the check and the write;
- `exporter`: the directory written back in the same format (`export_practitioners`).

The practitioner fields' limits are those of `directory.practitioners.rules`, shared with the
profile editor.
"""

from directory.csv_io.exporter import export_practitioners, export_rows
from directory.csv_io.format import (
    COLUMNS,
    MAX_FILE_CHARS,
    MAX_LENGTHS,
    OPTIONAL_COLUMNS,
    PRACTITIONER_FIELDS,
    CsvImportError,
    decode_csv,
    from_spreadsheet_safe,
    spreadsheet_safe,
)
from directory.csv_io.importer import ImportReport, import_practitioners, import_rows, import_stream
from directory.csv_io.parser import ParsedRow, parse_csv

__all__ = [
    "COLUMNS",
    "MAX_FILE_CHARS",
    "MAX_LENGTHS",
    "OPTIONAL_COLUMNS",
    "PRACTITIONER_FIELDS",
    "CsvImportError",
    "ImportReport",
    "ParsedRow",
    "decode_csv",
    "export_practitioners",
    "export_rows",
    "from_spreadsheet_safe",
    "import_practitioners",
    "import_rows",
    "import_stream",
    "parse_csv",
    "spreadsheet_safe",
]
