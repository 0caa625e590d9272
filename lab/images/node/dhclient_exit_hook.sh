# dhclient-script sources this after it wrote resolv.conf from a DHCPv4 lease: keep the IPv6
# resolvers learnt from RAs in it (field lab; a no-op while rdnssd has learnt none).
if [ -x /usr/local/sbin/natloop-rdnssd-merge ]; then
  /usr/local/sbin/natloop-rdnssd-merge || true
fi
