"""E-mail in: fetch from IMAP, store the raw message, parse, and turn it into a ticket or a
reply.

``fetch`` talks to the IMAP server and stores each message before anything parses it;
``parse`` (with ``charsets``, ``html`` and ``trim``) turns the bytes into a
``ParsedMessage``; ``loops`` decides what must never become a ticket; ``intake`` calls the
ticket actions.
"""
