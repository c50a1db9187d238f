using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Delta.Service.Api;
using Delta.Service.Jobs;

namespace Delta.Host.Service;

/// <summary>The `jobs` verbs' HTTP client: base URL and bearer token from configuration; API errors become exceptions with the server's message.</summary>
public sealed class JobsClient(Uri baseUrl, string? token) : IDisposable
{
    private readonly HttpClient http = Create(baseUrl, token);

    private static HttpClient Create(Uri baseUrl, string? token)
    {
        var h = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null) h.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return h;
    }

    public Task<string> SubmitAsync(string jobJson, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, "api/jobs") { Content = new StringContent(jobJson, Encoding.UTF8, "application/json") }, ct);
    public Task<string> ListAsync(CancellationToken ct) => SendAsync(new HttpRequestMessage(HttpMethod.Get, "api/jobs"), ct);
    public Task<string> ShowAsync(string id, CancellationToken ct) => SendAsync(new HttpRequestMessage(HttpMethod.Get, $"api/jobs/{Uri.EscapeDataString(id)}"), ct);
    public Task<string> CancelAsync(string id, CancellationToken ct) => SendAsync(new HttpRequestMessage(HttpMethod.Post, $"api/jobs/{Uri.EscapeDataString(id)}/cancel"), ct);
    public Task<string> LogsAsync(string id, long after, CancellationToken ct) => SendAsync(new HttpRequestMessage(HttpMethod.Get, $"api/jobs/{Uri.EscapeDataString(id)}/logs?after={after}"), ct);

    public static T Parse<T>(string json) => JsonSerializer.Deserialize<T>(json, ServiceJson.Options)!;

    private async Task<string> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        HttpResponseMessage response;
        try { response = await http.SendAsync(request, ct); }
        catch (HttpRequestException e) { throw new JobsApiException($"cannot reach the service at {baseUrl}: {e.Message} (is `delta serve` running? set Service:Url)", badInput: false); }
        var body = await response.Content.ReadAsStringAsync(ct);
        if (response.IsSuccessStatusCode) return body;
        var message = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => "401 unauthorized: set Service:Token (e.g. DELTA_Service__Token) to the service's token",
            HttpStatusCode.BadRequest or HttpStatusCode.Conflict when TryErrors(body) is { } errors => "job rejected:" + Environment.NewLine + string.Join(Environment.NewLine, errors),
            _ => $"{(int)response.StatusCode} {response.ReasonPhrase}: {body.Trim()}",
        };
        // 409: the job's name is held by a job that has not ended; as with a 400, the job as written is what to change.
        throw new JobsApiException(message, badInput: response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Conflict or HttpStatusCode.NotFound);
    }

    private static string[]? TryErrors(string body)
    {
        try { return JsonDocument.Parse(body).RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetString() ?? "").ToArray(); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { return null; }
    }

    public void Dispose() => http.Dispose();
}

/// <summary>An API call failed; <see cref="BadInput"/> for a rejected job or an unknown id (exit code 2).</summary>
public sealed class JobsApiException(string message, bool badInput) : Exception(message)
{
    public bool BadInput { get; } = badInput;
}
