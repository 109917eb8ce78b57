#!/usr/bin/env python
from townsquare.cli import main

if __name__ == "__main__":
    main()
