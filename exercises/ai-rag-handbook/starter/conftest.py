pytest_plugins = ("worksample.graders.plugin",)
