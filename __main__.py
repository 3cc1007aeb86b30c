"""Entry point for `pulumi up`: everything lives in eksgitops.program and the components."""

from eksgitops.program import main

main()
