"""``perflint server``: the language server, on pygls.

Diagnostics are published when a document opens and after each change, at once by default,
as Ruff's server does: a change is linted incrementally (``perflint.engine.incremental``), in a
fraction of a whole lint, and lints never pile up, so waiting would only add to every change's
latency. With a debounce (``--debounce``), each change restarts the wait, so typing lints once,
when it pauses. Lints run one at a time on a thread of their own, so hover and code-action
requests are answered meanwhile; a result is published only if the document has not changed
since its text was taken (a newer lint is then on its way), and a lint waiting for the thread
is dropped when a newer change arrives.

Each document's last findings are kept with the text they were found in; code actions and
hover use them, after linting again when the buffer has changed since, so an edit is never
computed against stale positions. Diagnostics are linted without the fixes' text edits; the
first code action or hover that needs a fix of that text lints it again with them
(``PerflintServer.with_fixes``): only when the range asked about holds a finding of a rule that
offers fixes, so the light bulb a client refreshes on every cursor move costs nothing elsewhere.

Notebooks: a client that syncs notebook documents gets each cell's diagnostics on that cell.
The cells are put together as an ``.ipynb`` document and linted as perflint lints a notebook
file (``perflint.notebook``), which places each finding in its cell.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from perflint import __version__
from perflint.config import CONFIG_FILE_NAME, ConfigError
from perflint.engine.findings import Finding
from perflint.server import code_actions
from perflint.server.diagnostics import contains, lines_of, to_diagnostic
from perflint.server.hover import MachineMeasurements, hover_markdown
from perflint.server.linting import NotebookCell, ProjectLinter

if TYPE_CHECKING:
    from perflint.engine.incremental import LintedModule

# Seconds a document must stay unchanged before it is linted again: none, see the docstring.
DEFAULT_DEBOUNCE = 0.0


@dataclass(frozen=True)
class Linted:
    """A document's findings and the text they were found in; for a notebook cell, the
    notebook's URI (its cells are linted together); ``with_fixes``: the findings' fixes are
    text edits (a notebook's findings never carry fixes, so there is nothing to add);
    ``incremental``: what the next lint of the document starts from (see
    ``perflint.engine.incremental``), None when that lint lints the whole text."""

    text: str
    findings: list[Finding]
    notebook_uri: str | None = None
    with_fixes: bool = False
    # What the next lint of the document starts from, when it can be incremental.
    incremental: LintedModule | None = None


def document_path(uri: str) -> str:
    """The file a document's URI names; a buffer that is no file (``untitled:``, a remote
    scheme) is linted as a Python file of its name in the working directory."""
    path = to_fs_path(uri)  # None for any scheme but file:
    if path is None:
        return os.path.join(os.getcwd(), os.path.basename(uri.split(":", 1)[-1]) or "untitled.py")
    return path


class PerflintServer(LanguageServer):
    """The server's state: each document's last findings, the pending lints, the linter and
    this machine's measurements; the protocol's handlers are registered in ``create_server``."""

    def __init__(self, debounce: float = DEFAULT_DEBOUNCE, config_file: str | None = None) -> None:
        notebooks = types.NotebookDocumentSyncOptions(
            notebook_selector=[
                types.NotebookDocumentFilterWithCells(cells=[types.NotebookCellLanguage(language="python")])
            ]
        )
        super().__init__(
            "perflint",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=notebooks,
        )
        self.debounce = debounce
        self.config_file = config_file
        self.linted: dict[str, Linted] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.lint_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="perflint-lint")
        self.measurements = MachineMeasurements()
        self._linter: ProjectLinter | None = None

    @property
    def linter(self) -> ProjectLinter:
        """Configured from the workspace root (the working directory without one), as the
        command line is from its working directory."""
        if self._linter is None:
            root = self.workspace.root_path if self.workspace.root_path else os.getcwd()
            self._linter = ProjectLinter(root, self.config_file)
        return self._linter

    # Linting ---------------------------------------------------------------------------------

    def lint_now(self, uri: str) -> None:
        """Lint a document, or the notebook that holds it, and store and publish the result.
        Runs on the lint thread."""
        notebook = self.workspace.get_notebook_document(notebook_uri=uri) or self.workspace.get_notebook_document(
            cell_uri=uri
        )
        if notebook is not None:
            self._lint_notebook(notebook)
            return
        document = self.workspace.get_text_document(uri)
        # The version first: an edit landing between the two reads then fails the check below.
        version = document.version
        text = document.source
        previous = self.linted.get(uri)
        earlier = previous.incremental if previous is not None else None
        findings, incremental = self.linter.lint_incrementally(document_path(uri), text, earlier)
        if self.workspace.get_text_document(uri).version != version:
            return  # changed or closed meanwhile: a newer lint publishes
        # A text that cannot start the next lint (one that does not parse, as while typing) leaves
        # the last one that can: the next change is then linted incrementally from it.
        self.linted[uri] = Linted(text, findings, incremental=incremental or earlier)
        self._publish(document.uri, version, text, findings)

    def _lint_notebook(self, notebook: types.NotebookDocument) -> None:
        version = notebook.version
        documents = [self.workspace.get_text_document(cell.document) for cell in notebook.cells]
        versions = [document.version for document in documents]
        texts = [document.source for document in documents]
        cells = [
            NotebookCell(text, cell.kind == types.NotebookCellKind.Code and document.language_id in (None, "python"))
            for cell, document, text in zip(notebook.cells, documents, texts)
        ]
        findings = self.linter.lint_notebook(document_path(notebook.uri), cells)
        current = self.workspace.get_notebook_document(notebook_uri=notebook.uri)
        if current is None or current.version != version:
            return
        first_code_cell = next((number for number, cell in enumerate(cells, start=1) if cell.is_code), 1)
        for number, (document, cell_version, text) in enumerate(zip(documents, versions, texts), start=1):
            own = [finding for finding in findings if (finding.cell or first_code_cell) == number]
            self.linted[document.uri] = Linted(text, own, notebook.uri, with_fixes=True)
            self._publish(document.uri, cell_version, text, own)

    def _publish(self, uri: str, version: int | None, text: str, findings: list[Finding]) -> None:
        """The findings of ``text`` as the diagnostics of that version of the document."""
        lines = lines_of(text)
        codec = self.workspace.position_codec
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, version=version, diagnostics=[to_diagnostic(finding, lines, codec) for finding in findings]
            )
        )

    def is_python(self, uri: str) -> bool:
        """Whether a text document is Python source to lint: a client may also open the
        ``pyproject.toml`` (watched for changes) or a notebook's raw JSON as text."""
        document = self.workspace.get_text_document(uri)
        language = (document.language_id or "python").lower()
        return language == "python" and not uri.endswith((CONFIG_FILE_NAME, ".ipynb"))

    def cancel(self, uri: str) -> None:
        earlier = self.pending.pop(uri, None)
        if earlier is not None:
            earlier.cancel()

    def schedule(self, uri: str, delay: float) -> None:
        """Lint ``uri`` after ``delay`` seconds unless it changes again before."""
        self.cancel(uri)
        self.pending[uri] = asyncio.ensure_future(self._lint_after(uri, delay))

    async def _lint_after(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        try:
            await asyncio.get_running_loop().run_in_executor(self.lint_thread, self.lint_now, uri)
        except Exception as error:  # a server bug: said in the client's log, and the server goes on
            self.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Error,
                    message=f"perflint: linting {uri} failed: {type(error).__name__}: {error}",
                )
            )
        finally:
            if self.pending.get(uri) is asyncio.current_task():
                del self.pending[uri]

    def current(self, uri: str) -> Linted | None:
        """The document's findings for its text as it is now, linting again if it changed.
        Runs on the lint thread."""
        document = self.workspace.get_text_document(uri)
        linted = self.linted.get(uri)
        if linted is None or linted.text != document.source:
            self.lint_now(uri)
            linted = self.linted.get(uri)
        return linted if linted is not None and linted.text == document.source else None

    def with_fixes(self, uri: str) -> Linted | None:
        """``current``, with the findings' fixes as text edits: on first need for this text, by
        linting it again with them. Runs on the lint thread."""
        linted = self.current(uri)
        if linted is None or linted.with_fixes:
            return linted
        findings = self.linter.lint(document_path(uri), linted.text, fix_edits=True)
        linted = Linted(linted.text, findings, with_fixes=True, incremental=linted.incremental)
        if uri in self.linted:  # not closed meanwhile
            self.linted[uri] = linted
        return linted

    def relint_all(self) -> None:
        """After a configuration change: every open document, under the new settings."""
        self.linter.forget_configuration()
        notebooks = list(self.workspace.notebook_documents.values())
        cells = {cell.document for notebook in notebooks for cell in notebook.cells}
        for document in list(self.workspace.text_documents.values()):
            if document.uri not in cells and self.is_python(document.uri):
                self.schedule(document.uri, 0)
        for notebook in notebooks:
            self.schedule(notebook.uri, 0)

    # Requests --------------------------------------------------------------------------------

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        linted = self.current(uri)
        if linted is None:
            return []
        lines, codec = lines_of(linted.text), self.workspace.position_codec
        wanted = params.context.only
        actions: list[types.CodeAction] = []
        if code_actions.requested(types.CodeActionKind.QuickFix, wanted):
            first = params.range.start.line + 1
            last = params.range.end.line + 1

            def in_range(findings: list[Finding]) -> list[Finding]:
                return [finding for finding in findings if finding.end_line >= first and finding.line <= last]

            if not linted.with_fixes and any(
                code_actions.may_have_fix(finding) for finding in in_range(linted.findings)
            ):
                refreshed = self.with_fixes(uri)
                if refreshed is None:
                    return []
                linted = refreshed
            for finding in in_range(linted.findings):
                fix = code_actions.quick_fix(finding, uri, lines, codec)
                if fix is not None:
                    actions.append(fix)
                noqa = code_actions.noqa_action(finding, uri, linted.text, lines, codec)
                if noqa is not None:
                    actions.append(noqa)
        # Fixing the file lints it again, once per pass: worth it when asked for by kind or by
        # the user, not for the light bulb a client refreshes on every cursor move.
        asked = wanted is not None or params.context.trigger_kind != types.CodeActionTriggerKind.Automatic
        if (
            asked
            and linted.notebook_uri is None
            and code_actions.requested(code_actions.FIX_ALL_KIND, wanted)
            and any(code_actions.may_have_fix(finding) for finding in linted.findings)
        ):
            fixed = self.linter.fix_all(document_path(uri), linted.text)
            if fixed is not None and fixed != linted.text:
                actions.append(code_actions.fix_all_action(uri, fixed, lines, codec))
        return actions

    def hover(self, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        linted = self.linted.get(uri)
        document = self.workspace.get_text_document(uri)
        if linted is None or linted.text != document.source:
            return None  # diagnostics for this text are not out yet: nothing is shown to hover
        position = self.workspace.position_codec.position_from_client_units(lines_of(linted.text), params.position)
        line, column = position.line + 1, position.character + 1
        hovered = [finding for finding in linted.findings if contains(finding, line, column)]
        if not linted.with_fixes and any(code_actions.may_have_fix(finding) for finding in hovered):
            refreshed = self.lint_thread.submit(self.with_fixes, uri).result()  # the fix's own words
            if refreshed is None:
                return None
            linted = refreshed
            hovered = [finding for finding in linted.findings if contains(finding, line, column)]
        if not hovered:
            return None
        try:
            root = self.linter.config_for(document_path(linted.notebook_uri or uri)).root
        except ConfigError:  # already shown as the document's PFL000 diagnostic
            root = self.linter.working_directory
        text = "\n\n---\n\n".join(hover_markdown(finding, self.measurements, root) for finding in hovered)
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


def import_engine() -> None:
    import perflint.engine.linter  # noqa: F401
    from perflint.rules import all_rules

    all_rules()


def create_server(debounce: float = DEFAULT_DEBOUNCE, config_file: str | None = None) -> PerflintServer:
    server = PerflintServer(debounce, config_file)

    @server.feature(types.INITIALIZED)
    def initialized(ls: PerflintServer, params: types.InitializedParams) -> None:
        # The engine and the rules are imported now, on the lint thread, rather than by the
        # first document's lint; and the machine's fingerprint (it reads the CPU, libraries
        # and GPUs) is worked out off the event loop, so the first hover does not wait for it.
        ls.lint_thread.submit(import_engine)
        asyncio.get_running_loop().run_in_executor(None, lambda: ls.measurements.fingerprint)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PerflintServer, params: types.DidOpenTextDocumentParams) -> None:
        if ls.is_python(params.text_document.uri):
            ls.schedule(params.text_document.uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PerflintServer, params: types.DidChangeTextDocumentParams) -> None:
        if ls.is_python(params.text_document.uri):
            ls.schedule(params.text_document.uri, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PerflintServer, params: types.DidSaveTextDocumentParams) -> None:
        if params.text_document.uri.endswith(CONFIG_FILE_NAME):
            ls.relint_all()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PerflintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.cancel(uri)
        ls.linted.pop(uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_open(ls: PerflintServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_change(ls: PerflintServer, params: types.DidChangeNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri, ls.debounce)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_close(ls: PerflintServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.cancel(params.notebook_document.uri)
        for cell in params.cell_text_documents:
            ls.linted.pop(cell.uri, None)
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=cell.uri, diagnostics=[]))

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, code_actions.FIX_ALL_KIND]),
    )
    async def code_action(ls: PerflintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return await asyncio.get_running_loop().run_in_executor(ls.lint_thread, ls.code_actions, params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: PerflintServer, params: types.HoverParams) -> types.Hover | None:
        # Off the event loop: the first hover may wait for the machine's fingerprint.
        return await asyncio.get_running_loop().run_in_executor(None, ls.hover, params)

    return server


def serve(debounce: float = DEFAULT_DEBOUNCE, config_file: str | None = None) -> None:
    """Speak LSP on standard input and output until the client says exit."""
    create_server(debounce, config_file).start_io()
