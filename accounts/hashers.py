"""Password hashing: argon2id at OWASP's recommended parameters.

Django's default Argon2 parameters (t=2, m=100 MiB, p=8) cost about 325 ms of CPU
per login on the 2-core machines we measured (3 logins/s per core: the first
limit in the bursts before deadlines, and 100 MiB per concurrent login). OWASP's
Password Storage Cheat Sheet recommends argon2id with at least m=19 MiB, t=2, p=1,
which costs about a tenth of that (bench/login.py). Hashes made with other
parameters still verify and are re-hashed with these at the next login.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class PortalArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
