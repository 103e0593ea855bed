"""Floor 5: pictures of layer graphs and op graphs, rendered without a system Graphviz."""

from .explore import Explorer, explore
from .layers import model_to_dot, plot_model
from .notebook import in_notebook, pictures_folder, show
from .ops import graph_to_dot, plot_graph
from .render import Picture
