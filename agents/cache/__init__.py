"""What keeps the learning cache honest: sealed entries checked on read (integrity), leftovers of dead
writers swept away (leftovers), tasks claimed by one worker at a time (claims), and a listing of what
the cache holds (inventory). None of it imports torch, so `skill-sim cache` starts fast."""
