using System.Net;

namespace Delta.Service.Api;

/// <summary>
/// Off-loopback binding needs a token: the API can start and cancel training and read data-root files,
/// so anything reachable from another machine must authenticate.
/// </summary>
public static class BindingPolicy
{
    public static IReadOnlyList<string> Urls(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static bool IsLoopback(string url)
    {
        // Kestrel's wildcards ("*", "+", "0.0.0.0", "[::]") listen on every interface.
        var host = url.Contains("://") ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
        host = host.Split('/')[0];
        if (host.StartsWith('['))
            host = host[1..host.IndexOf(']')];
        else if (host.Contains(':'))
            host = host[..host.LastIndexOf(':')];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }

    /// <summary>Throws when an address other than loopback is configured without a token.</summary>
    public static void Check(ServiceOptions o)
    {
        var open = Urls(o.Urls).Where(u => !IsLoopback(u)).ToList();
        if (open.Count > 0 && string.IsNullOrEmpty(o.Token))
            throw new InvalidOperationException(
                $"Refusing to listen on {string.Join(", ", open)} without Service:Token: off-loopback access requires a bearer token.");
    }
}
