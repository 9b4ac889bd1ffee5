"""Build configuration that pyproject.toml cannot express: which files the package carries.

Everything else (name, version, dependencies, the ``csi`` command) is in pyproject.toml.
The stage notebooks and the sample cycle live once, in the repository's ``notebooks/``
and ``data/`` folders (where the README points); the wheel carries them under
``csi_lib/_shipped/`` with the same layout, mapped here at build time, so an installed
package finds them (``csi_lib.shipped``) and a checkout keeps a single copy.
"""

from setuptools import find_packages, setup

#: Package in the wheel -> folder of the repository it is built from.
SHIPPED = {
    "csi_lib._shipped.notebooks": "notebooks",
    "csi_lib._shipped.data": "data",
}

setup(
    packages=[*find_packages(include=["csi_lib", "csi_lib.*"]), *SHIPPED],
    package_dir=SHIPPED,
    package_data={
        "csi_lib": [
            "presets/*.yaml",
            "engines/spark-log4j2.properties",  # the Spark driver logs errors only
            "templates/*",
            "templates/*/*",
            "templates/jupyter/voila/templates/*/*",  # its Voila template
            "assets/*",
            "assets/reveal/*",
            "assets/reveal/dist/*",
            "assets/reveal/dist/theme/*",
        ],
        "csi_lib._shipped.notebooks": ["*.ipynb", "examples/*.ipynb"],
        "csi_lib._shipped.data": [
            "README.md",
            "sample_requests.csv.gz",  # the sample cycle's data source
            "sample-cycle/*.yaml",
            "sample-cycle/baseline/*",
            "mappings/my-export.yaml",  # the commented template of a mapping file
        ],
    },
    include_package_data=False,
)
