#!/usr/bin/env python
from partner.cli import main

if __name__ == "__main__":
    main()
