#!/bin/sh
# Merge the IPv6 resolvers rdnssd learnt from RAs (RDNSS) into /etc/resolv.conf, with the policy of
# Debian's own /etc/rdnssd/merge-hook (rdnssd 1.0.5): other lines kept, then the IPv6 nameservers
# (at most 3 minus the IPv4 ones, at least 2), then the IPv4 nameservers - IPv6 first. Debian's hook
# replaces the file with mv, which fails on Docker's bind-mounted resolv.conf: this one writes in
# place. Also run after every DHCPv4 lease (dhclient exit hook), as resolvconf would merge both.
set -e
# One merge at a time (rdnssd's own call and the DHCP client's can coincide): a second one reading
# the file while the first rewrites it in place would see it empty.
exec 9>/run/natloop-rdnssd-merge.lock
flock 9
resolv=/etc/resolv.conf
learnt=/run/rdnssd/resolv.conf
[ -f "$learnt" ] || learnt=/dev/null   # nothing learnt (yet): no IPv6 resolver from an RA
v4='^nameserver  *[0-9]\{1,3\}\(\.[0-9]\{1,3\}\)\{3\} *$'
v6='^nameserver  *[a-fA-F0-9:.]*:[a-fA-F0-9:.%a-zA-Z]* *$'
nv4=$(grep -c "$v4" "$resolv" || true)
limit=$((3 - nv4)); [ "$limit" -ge 2 ] || limit=2
tmp=$(mktemp)
{
  grep -v "$v4" "$resolv" | grep -v "$v6" || true
  grep -m "$limit" "$v6" "$learnt" || true
  grep "$v4" "$resolv" || true
} >"$tmp"
# Rewritten only when it changes: every rewrite in place leaves a moment in which a client's
# resolver reads an empty file (measured: getaddrinfo failing with EAI_AGAIN during verify).
cmp -s "$tmp" "$resolv" || cat "$tmp" >"$resolv"
rm -f "$tmp"
