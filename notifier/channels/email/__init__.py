"""Email over SMTP: text and HTML, threaded per incident, one kept-alive session."""
