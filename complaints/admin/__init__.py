"""The complaint back office, one module a screen (see complaints.admin.complaints for the whole).

Importing the package registers ComplaintAdmin with the admin site.
"""

from complaints.admin import complaints  # noqa: F401  (registers the admin)
