"""Files in and out, with no knowledge of what the tables mean.

``tables`` reads CSV folders, ``.xlsx`` workbooks, TOML and Python objects into raw string
tables; ``output`` writes spreadsheet-safe CSV and JSON atomically. Nothing here imports
from the rest of the package except :mod:`expertmatch.errors`.
"""
