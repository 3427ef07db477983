#!/usr/bin/env bash
# Runs lwIP's own unit tests under our options and compares the failures with
# expected_failures.txt: passes only if exactly the listed tests fail (an unlisted failure, or
# a listed test that now passes, fails this test) and enough tests ran.
set -uo pipefail
BIN="$1"; EXPECTED="$2"
out="$(mktemp)"; trap 'rm -f "$out"' EXIT
CK_DEFAULT_TIMEOUT=30 "$BIN" >"$out" 2>&1
cat "$out"
checks="$(sed -n 's/.*Checks: \([0-9]*\).*/\1/p' "$out" | tail -1)"
if [[ -z "$checks" || "$checks" -lt 50 ]]; then
  echo "FAIL: expected at least 50 lwIP unit tests to run, saw '${checks:-none}'"; exit 1
fi
actual="$(grep -oE ':[EF]:[A-Za-z0-9_]+:[A-Za-z0-9_]+:' "$out" | cut -d: -f3,4 | sort -u)"
expected="$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$EXPECTED" | awk '{print $1}' | sort -u)"
unexpected="$(comm -23 <(echo "$actual") <(echo "$expected") | sed '/^$/d')"
fixed="$(comm -13 <(echo "$actual") <(echo "$expected") | sed '/^$/d')"
nfail="$(echo "$actual" | sed '/^$/d' | wc -l)"
if [[ -n "$unexpected" ]]; then echo "FAIL: unexpected lwIP unit test failures:"; echo "$unexpected"; fi
if [[ -n "$fixed" ]]; then echo "FAIL: listed as failing but passed (update expected_failures.txt):"; echo "$fixed"; fi
[[ -z "$unexpected" && -z "$fixed" ]] || exit 1
echo "lwip unit tests: $checks run, $((checks - nfail)) passed, $nfail not applicable to our options (listed)"
echo "$((checks - nfail)) passed, 0 failed"
