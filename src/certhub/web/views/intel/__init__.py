"""Intel pages: reports (list, page, create/edit), imports with preview, values, lookup."""
