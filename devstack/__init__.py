"""The embedded local stack: a moto server standing in for AWS, on one machine."""
