"""hubgen: a static site generator for awareness campaigns.

The build is a pipeline of stages, one module each, called in order by
`pipeline.build`:

    load (I/O) -> validate -> resolve -> publish -> render -> write (I/O)

Everything between `load` and `write` is pure: no file access and no clock.
The current time is read once, in `cli`, and passed down as `now`, so a build
is a function of the site's files and of `now` alone.
"""

__version__ = "0.1.0"
