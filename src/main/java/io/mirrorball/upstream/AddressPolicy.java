package io.mirrorball.upstream;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;

/**
 * Where the upstream client may connect: the DNS resolver of its connection pool, so the check holds at
 * connect time (no DNS rebinding between a check and the connection). The upstream's own host is always
 * allowed. Any other host (a redirect target, a token service) must resolve to public addresses, or to
 * addresses of a kind the upstream itself has (an upstream on a private network may redirect to storage
 * on that network, a loopback upstream to loopback), or be listed in {@code upstream.redirect-allow}
 * (host names or CIDRs). Link-local addresses (169.254.169.254, the cloud metadata service) are therefore
 * refused unless listed, or unless the upstream is itself link-local.
 */
final class AddressPolicy implements DnsResolver {
    /** The kinds of address that a redirect may not reach by default. */
    enum Kind { PUBLIC, LOOPBACK, PRIVATE, LINK_LOCAL, SPECIAL }

    /** A connection refused by the policy; maps to 502. */
    static final class BlockedAddressException extends UnknownHostException {
        private static final long serialVersionUID = 1L;

        BlockedAddressException(String host) {
            super(host + ": not an allowed address for the upstream to send mirrorball to");
        }
    }

    record Cidr(byte[] network, int prefix) {
        boolean contains(InetAddress address) {
            byte[] bytes = address.getAddress();
            if (bytes.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (bytes[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (bytes[full] & mask) == (network[full] & mask);
        }
    }

    private final String upstreamHost;
    private final Set<String> allowedHosts = new HashSet<>();
    private final List<Cidr> allowedNets = new ArrayList<>();
    private final DnsResolver system;

    AddressPolicy(String upstreamHost, List<String> allow, DnsResolver system) {
        this.upstreamHost = upstreamHost.toLowerCase(Locale.ROOT);
        this.system = system;
        for (String entry : allow) {
            String value = entry.trim().toLowerCase(Locale.ROOT);
            Cidr cidr = parseCidr(value);
            if (cidr != null) {
                allowedNets.add(cidr);
            } else {
                allowedHosts.add(value);
            }
        }
    }

    static AddressPolicy of(String upstreamHost, List<String> allow) {
        return new AddressPolicy(upstreamHost, allow, SystemDefaultDnsResolver.INSTANCE);
    }

    /**
     * A CIDR ({@code 10.0.0.0/8}, {@code fd00::/8}) or an IP literal (a /32 or /128), or null when the entry
     * is a host name. Literals are parsed without DNS.
     *
     * @throws IllegalArgumentException for a malformed CIDR
     */
    static Cidr parseCidr(String entry) {
        String value = entry.trim();
        int slash = value.indexOf('/');
        String address = slash < 0 ? value : value.substring(0, slash);
        boolean v4 = address.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = address.contains(":") && address.matches("[0-9a-fA-F:.]+");
        if (!v4 && !v6) {
            if (slash >= 0) {
                throw new IllegalArgumentException("'" + entry + "' is not a CIDR such as 10.0.0.0/8");
            }
            if (!value.matches("[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")) {
                throw new IllegalArgumentException("'" + entry + "' is neither a host name nor a CIDR");
            }
            return null;
        }
        byte[] bytes;
        try {
            if (v4) {
                for (String part : address.split("\\.")) {
                    if (Integer.parseInt(part) > 255) {
                        throw new IllegalArgumentException("'" + entry + "': " + part + " is over 255");
                    }
                }
            }
            bytes = InetAddress.getByName(address).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + entry + "' is not an IP address");
        }
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            String text = value.substring(slash + 1);
            if (!text.matches("\\d{1,3}") || Integer.parseInt(text) > max) {
                throw new IllegalArgumentException("'" + entry + "': the prefix must be 0.." + max);
            }
            prefix = Integer.parseInt(text);
        }
        return new Cidr(bytes, prefix);
    }

    static Kind kind(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return Kind.LOOPBACK;
        }
        if (address.isLinkLocalAddress()) {
            return Kind.LINK_LOCAL;
        }
        if (address.isAnyLocalAddress() || address.isMulticastAddress()) {
            return Kind.SPECIAL;
        }
        byte[] b = address.getAddress();
        if (address.isSiteLocalAddress()
                || (address instanceof Inet4Address && (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64)
                || (address instanceof Inet6Address && (b[0] & 0xfe) == 0xfc)) {
            return Kind.PRIVATE;
        }
        if (address instanceof Inet4Address && (b[0] == 0 || (b[0] & 0xff) >= 240)) {
            return Kind.SPECIAL;
        }
        return Kind.PUBLIC;
    }

    /** Whether mirrorball may connect to {@code address}, which {@code host} resolved to. */
    boolean allows(String host, InetAddress address) {
        String name = host.toLowerCase(Locale.ROOT);
        if (name.equals(upstreamHost) || allowedHosts.contains(name)) {
            return true;
        }
        Kind kind = kind(address);
        if (kind == Kind.PUBLIC || allowedNets.stream().anyMatch(net -> net.contains(address))) {
            return true;
        }
        return kind != Kind.SPECIAL && upstreamKinds().contains(kind);
    }

    private Set<Kind> upstreamKinds() {
        Set<Kind> kinds = EnumSet.noneOf(Kind.class);
        try {
            for (InetAddress address : system.resolve(upstreamHost)) {
                kinds.add(kind(address));
            }
        } catch (UnknownHostException e) {
            // the upstream does not resolve now: only public addresses and the allow-list
        }
        return kinds;
    }

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        InetAddress[] all = system.resolve(host);
        List<InetAddress> allowed = new ArrayList<>();
        for (InetAddress address : all) {
            if (allows(host, address)) {
                allowed.add(address);
            }
        }
        if (allowed.isEmpty()) {
            throw new BlockedAddressException(host);
        }
        return allowed.toArray(new InetAddress[0]);
    }

    @Override
    public List<InetSocketAddress> resolve(String host, int port) throws UnknownHostException {
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (InetAddress address : resolve(host)) {
            addresses.add(new InetSocketAddress(address, port));
        }
        return addresses;
    }

    @Override
    public String resolveCanonicalHostname(String host) throws UnknownHostException {
        return system.resolveCanonicalHostname(host);
    }
}
