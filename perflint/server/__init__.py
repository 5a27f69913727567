"""perflint's language server (``perflint server``): diagnostics, quick fixes and measured costs
in any editor that speaks the Language Server Protocol.

It needs pygls (``pip install 'perflint-ml[lsp]'``), which only this package imports, so the
other commands start without it.
"""
