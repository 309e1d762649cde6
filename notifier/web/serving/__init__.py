"""Serving safely: the uvicorn server, body limits, the token, security headers, the origin
check and templating.
"""
