"""E-mail: ``inbound`` reads mailboxes into tickets; ``outbound`` sends ticket mail."""
