using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Delta.Service.Api;

/// <summary>With a token configured every request (page included) needs "Authorization: Bearer &lt;token&gt;", else 401.</summary>
public sealed class BearerTokenMiddleware(RequestDelegate next, string token)
{
    private readonly byte[] expected = Encoding.UTF8.GetBytes(token);

    public Task InvokeAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        // The scheme's name is case-insensitive (RFC 9110, 11.1): "bearer" is what some clients send.
        var ok = header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            // Constant-time compare: response timing must not reveal how much of a guess was right.
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[prefix.Length..].Trim()), expected);
        if (ok) return next(context);
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return context.Response.WriteAsync("401: missing or wrong bearer token.\n");
    }
}
