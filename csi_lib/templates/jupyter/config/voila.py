# Voila configuration of `csi workshop` (passed with --Voila.config_file_paths): each page gets
# the _xsrf cookie its kernel-shutdown request needs when the page closes.
from csi_lib.workshop.server import prelaunch

c = get_config()  # noqa: F821 (defined by traitlets when it loads this file)
c.VoilaConfiguration.prelaunch_hook = prelaunch
