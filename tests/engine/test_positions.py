"""Positions of reported nodes are exactly libcst's PositionProvider's, for any node."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from perflint.engine.positions import node_positions
from perflint.engine.walker import syntax_children

SOURCE = '''\
# leading comment
import numpy as np  # trailing


@decorator(arg)
class Model(Base, metaclass=Meta):
    """Docstring."""

    def forward(self, x, *args, **kwargs):
        for i in range(len(x)):  # loop
            x[i] = (
                np.sqrt(x[i])
                + 1
            )
        else:
            pass
        if x: y = [v for v in x if v]; z = {k: v for k, v in y}
        return lambda a: a + \\
            1
'''


def test_every_node_is_where_position_provider_puts_it():
    module = cst.parse_module(SOURCE)
    nodes, pending = [], [module]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(syntax_children(node))
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = node_positions(module, nodes)
    for node in nodes:
        span = expected[node]
        assert positions[id(node)] == ((span.start.line, span.start.column), (span.end.line, span.end.column)), node


def test_a_single_deep_node_is_placed_without_positions_for_the_others():
    module = cst.parse_module(SOURCE)
    loop = module.body[1].body.body[1].body.body[0]
    assert isinstance(loop, cst.For)
    # From `for` on line 10 to the end of `pass` on line 16 (the `else` is part of the loop).
    assert node_positions(module, [loop]) == {id(loop): ((10, 8), (16, 16))}
