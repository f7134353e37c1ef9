"""How `filings` tells the search index about changes without importing it.

`filings.ingest` records an `IndexChange` row with every stored, updated or deleted
filing; the `search` app connects to these signals in its `AppConfig.ready()`.
"""
from django.dispatch import Signal

# Sent inside the transaction that stored, updated or deleted a filing, after its
# IndexChange row; kwargs: accession_number. An index in the same database applies the
# change here, so the filing and its index entries commit together.
filing_changed = Signal()

# Sent after a batch of such transactions has committed (and at the end of every ingest
# run, upload, re-derive and delete): recorded index work should be applied now.
index_work_recorded = Signal()
