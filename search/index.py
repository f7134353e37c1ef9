"""The Whoosh index: the only module that writes it."""


def update_filings(accessions):
    """Replace the index entries of these filings with their stored documents."""


def remove_filings(accessions):
    """Remove every index entry of these filings."""
