"""What every HTML page shares: templates, forms, CSRF protection, headers and language."""
