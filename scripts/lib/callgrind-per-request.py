"""Instructions per request from a callgrind profile of the app.

    python3 callgrind-per-request.py CALLGRIND_OUT [TOP]

Requests are counted as calls to leptos's `Nonce::new`, which the security layer makes once
for every request. SHA-256 is reported apart: valgrind emulates no SHA instructions, so under
it the token fingerprint runs the portable code, which the native binary does not.
"""

import collections
import re
import sys


def main() -> None:
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    names: dict[str, str] = {}

    def name(text: str) -> str:
        # Callgrind writes a name once as "(id) name", then "(id)" alone.
        match = re.match(r"\((\d+)\)(?: (.*))?", text)
        if not match:
            return text
        if match.group(2):
            names[match.group(1)] = match.group(2)
        return names.get(match.group(1), match.group(1))

    own_cost: collections.Counter[str] = collections.Counter()
    requests = 0
    function = callee = None
    next_line_is_call_cost = False
    with open(path, encoding="utf-8", errors="replace") as profile:
        for line in profile:
            line = line.rstrip("\n")
            if line.startswith("fn="):
                function = name(line[3:])
            elif line.startswith("cfn="):
                callee = name(line[4:])
            elif line.startswith("calls="):
                if callee and re.search(r"Nonce.*::new", callee):
                    requests += int(line[6:].split()[0])
                next_line_is_call_cost = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                fields = line.split()
                if len(fields) >= 2:
                    if next_line_is_call_cost:
                        # The inclusive cost of a call, already counted in the callee.
                        next_line_is_call_cost = False
                    else:
                        own_cost[function or "?"] += int(fields[1])

    total = sum(own_cost.values())
    sha = sum(cost for fn, cost in own_cost.items() if "sha256" in fn.lower())
    if requests == 0:
        sys.exit("no request was counted (no call of Nonce::new in the profile)")
    print(f"requests: {requests}")
    print(f"instructions per request: {total / requests:,.0f}")
    print(f"  of which SHA-256 (portable code under valgrind): {sha / requests:,.0f}")
    print(f"  without SHA-256: {(total - sha) / requests:,.0f}")
    for fn, cost in own_cost.most_common(top):
        print(f"{cost / requests:10,.0f}  {100 * cost / total:5.1f}%  {fn[:160]}")


if __name__ == "__main__":
    main()
