# Installed to {sys.prefix}/etc/ipython/ by nscale-jupyter: every IPython kernel of this
# environment loads the extension, so %%chat works without %load_ext.
# Opt out: set NSCALE_JUPYTER_AUTOLOAD=0 in the kernel's environment, or
# `c.InteractiveShellApp.extensions.remove("nscale_jupyter._autoload")` in your own config.
# (Autoloaded under that name, a notebook's own `%load_ext nscale_jupyter` stays quiet.)
import os

if os.environ.get("NSCALE_JUPYTER_AUTOLOAD", "1").lower() not in ("0", "false", "no"):
    c = get_config()  # noqa: F821 - provided by traitlets when it runs this file
    c.InteractiveShellApp.extensions.append("nscale_jupyter._autoload")
