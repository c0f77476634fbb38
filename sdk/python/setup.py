"""Bundles a copy of the repository's WIT (../../wit) into the package, so an installed
wasmpipe finds it when it no longer sits beside the repository (see wasmpipe/_build.py)."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    def run(self):
        super().run()
        src = Path(__file__).resolve().parent.parent.parent / "wit"
        if (src / "pipeline.wit").is_file():
            dest = Path(self.build_lib) / "wasmpipe" / "wit"
            dest.mkdir(parents=True, exist_ok=True)
            for f in src.glob("*.wit"):
                shutil.copyfile(f, dest / f.name)


setup(cmdclass={"build_py": BuildPy})
