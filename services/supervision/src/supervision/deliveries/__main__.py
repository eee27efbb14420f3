"""`python -m supervision.deliveries`: the deliveries worker."""

from supervision.deliveries.worker import main

if __name__ == "__main__":
    main()
