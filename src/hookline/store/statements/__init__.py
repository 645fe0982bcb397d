"""The SQL of every repository, as named statements (one NamedTuple of them per repository).

Statements are written once for both databases, with PostgreSQL's ``$n`` placeholders and the
dialect's tokens (``{lock}``, ``{row_lock}``, ``{in $n}``, ``{not_in $n}``, ``{room $n col}``;
see :mod:`hookline.store.dialect`); each repository has its set rendered by its dialect when the
store is built. Constants (the hold offset, column lists) are part of the text when the module
is imported; nothing is spliced into a statement when it runs. Listings whose conditions depend
on the filters given are :class:`~hookline.store.statements.listing.Listing` values.
"""
