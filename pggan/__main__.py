"""`python -m pggan …` runs the `pggan` command (also `torchrun --nproc_per_node=N -m pggan train …`)."""

from ganeval_cli.pggan_cli import main

if __name__ == "__main__":
    main()
