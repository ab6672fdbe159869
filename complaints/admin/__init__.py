"""The complaint back office, one module a screen (see complaints.admin.complaints for the whole).

Importing the package registers ComplaintAdmin, and the reply templates and snippets, with the admin site.
"""

from complaints.admin import complaints, customer_sections, reply_texts  # noqa: F401  (registers the admin)
