"""Forms of the filings app: the admin's upload form."""
from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

# A hint for the browser's file picker only; the pipeline decides what a file holds, and
# anything else is reported as a failed line, not silently dropped.
ACCEPT = ".txt,.nc,.sgml,.hdr,.html,.htm,.gz,.tgz,.zip,.tar"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A FileField that takes several files and cleans to a list of them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_file_clean = super().clean
        if not data:
            # Raises "required" (or returns nothing for an optional field).
            return [f for f in [single_file_clean(None, initial)] if f]
        if not isinstance(data, list | tuple):
            data = [data]
        return [single_file_clean(d, initial) for d in data]


def too_large_message(size, limit):
    return (
        f"This upload is {filesizeformat(size)}; the most one upload may hold is "
        f"{filesizeformat(limit)} (setting MAX_UPLOAD_MB). Upload fewer files at a time, "
        "or load large batches with the ingest command."
    )


class UploadForm(forms.Form):
    files = MultipleFileField(
        help_text=(
            "EDGAR submissions (.txt, .nc, .hdr.sgml, -index-headers.html) or archives of "
            "them (.gz, .zip, .tar, .tar.gz)."
        ),
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        total = sum(f.size for f in files)
        if total > settings.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                too_large_message(total, settings.MAX_UPLOAD_BYTES), code="too_large"
            )
        return files
