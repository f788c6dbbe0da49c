"""Email's protocols with no storage and no global state: reading a message (``parsing``), whether it was
sent by a machine (``automatic``), the new part of a reply (``replies``), Japanese charsets
(``charsets``) and building an outbound message (``composing``)."""
