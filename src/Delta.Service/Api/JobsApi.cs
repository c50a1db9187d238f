using System.Globalization;
using System.Text;
using System.Text.Json;
using Delta.Service.Jobs;
using Delta.Service.Status;
using Delta.Service.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Delta.Service.Api;

/// <summary>The HTTP API (minimal APIs) and the status page.</summary>
public static class JobsApi
{
    /// <summary>Largest job file accepted (they are a few hundred bytes; this only stops abuse).</summary>
    public const int MaxJobBytes = 256 * 1024;

    public static void Map(IEndpointRouteBuilder app, ServiceOptions options)
    {
        var api = app.MapGroup("/api/jobs");
        api.MapPost("/", Submit);
        // Numbers in the query are taken as text and read here (WholeNumber): bound as numbers, a value that was none
        // was answered 400 with an empty body, saying nothing of which parameter was wrong.
        api.MapGet("/", async (IJobStore store, string? limit, CancellationToken ct) =>
            BadQuery("limit", limit, out var n) ?? Results.Ok(await store.ListAsync((int)Math.Clamp(n ?? 200, 1, 10_000), ct)));
        api.MapGet("/{id}", async (string id, IJobStore store, CancellationToken ct) =>
            await store.GetAsync(id, ct) is { } job ? Results.Ok(job) : NotFound(id));
        // 202 only while the cancel is pending (a running job's heartbeat carries it out); a queued job is cancelled at once
        // and an ended one is left as it is: 200 with the job as it is now.
        api.MapPost("/{id}/cancel", async (string id, IJobStore store, CancellationToken ct) =>
            await store.RequestCancelAsync(id, ct) is not { } job ? NotFound(id)
            : job.State == JobState.Running ? Results.Accepted($"/api/jobs/{id}", job) : Results.Ok(job));
        api.MapGet("/{id}/logs", async (string id, string? after, IJobStore store, CancellationToken ct) =>
            BadQuery("after", after, out var n) ?? (await store.GetAsync(id, ct) is null ? NotFound(id) : Results.Ok(await store.GetLogsAsync(id, n ?? 0, ct))));
        api.MapGet("/{id}/events", Events);
        api.MapGet("/{id}/metrics.csv", MetricsCsv);
        api.MapGet("/{id}/metrics.svg", async (string id, IJobStore store, CancellationToken ct) =>
            await store.GetAsync(id, ct) is null ? NotFound(id) : Results.Text(SvgChart.Render(await store.GetMetricHistoryAsync(id, SvgChart.MaxPoints, ct)), "image/svg+xml"));
        api.MapGet("/{id}/artifacts/{index:int}", async (string id, int index, IJobStore store, CancellationToken ct) =>
        {
            if (await store.GetAsync(id, ct) is not { } job) return NotFound(id);
            if (index < 0 || index >= job.Artifacts.Count) return Results.NotFound(new { error = $"job {id} has {job.Artifacts.Count} artifact(s); no index {index}" });
            var path = job.Artifacts[index];
            var roots = options.ArtifactRoots.Append(options.StateDir);
            if (!ArtifactPaths.IsInside(path, roots)) return Results.Json(new { error = $"artifact {index} lies outside the served folders" }, statusCode: 403);
            if (!File.Exists(path)) return Results.NotFound(new { error = $"artifact file {Path.GetFileName(path)} no longer exists" });
            return Results.File(Path.GetFullPath(path), "application/octet-stream", Path.GetFileName(path));
        });
        app.MapGet("/", async (IJobStore store, CancellationToken ct) => Results.Content(await StatusPage.RenderAsync(store, ct), "text/html; charset=utf-8"));
    }

    private static async Task<IResult> Submit(HttpRequest request, IJobValidator validator, IJobStore store, ServiceOptions options, CancellationToken ct)
    {
        var tooLarge = Results.Json(new { errors = new[] { $"job larger than {MaxJobBytes} bytes" } }, statusCode: 413);
        if (request.ContentLength > MaxJobBytes) return tooLarge;
        // Counted as read too: a chunked body says no length, and was read whole (up to Kestrel's 30 MB) and queued.
        var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        for (int n; (n = await request.Body.ReadAsync(buffer, ct)) > 0;)
        {
            if (body.Length + n > MaxJobBytes) return tooLarge;
            body.Write(buffer, 0, n);
        }
        body.Position = 0;
        using var reader = new StreamReader(body, Encoding.UTF8);
        var json = await reader.ReadToEndAsync(ct);
        var key = request.Headers["Idempotency-Key"].ToString() is { Length: > 0 } k ? k : null;
        // A retry of a submission that got through (its response lost) gets that job back, before validation: what the
        // job asks for may be refused by now (its patch name is taken once it has run), and the retry must not be. A
        // retry is the same text; another job under the key is refused (the store checks again, for racing submissions).
        if (key is not null && await store.FindByIdempotencyKeyAsync(key, ct) is { } earlier)
            return earlier.Spec == json ? Results.Ok(earlier) : KeyReused(new IdempotencyKeyReusedException(key, earlier.Id));
        JobSubmission submission;
        try { submission = validator.Validate(json, key); }
        catch (JobValidationException e) { return Results.BadRequest(new { errors = e.Problems }); }
        // Only this host's workers are known here, and they claim by exact device name: a job for another device
        // would be accepted and then never run.
        if (!options.Devices.Contains(submission.Device, StringComparer.Ordinal))
            return Results.BadRequest(new { errors = new[] { $"device: '{submission.Device}' is not served by this host. Valid: {string.Join(", ", options.Devices)} (Service:Devices)." } });
        try
        {
            var (job, created) = await store.SubmitAsync(submission, ct);
            return created ? Results.Created($"/api/jobs/{job.Id}", job) : Results.Ok(job);
        }
        catch (JobNameTakenException e) { return Results.Conflict(new { errors = new[] { e.Message } }); }
        catch (IdempotencyKeyReusedException e) { return KeyReused(e); }
    }

    private static IResult KeyReused(IdempotencyKeyReusedException e) => Results.UnprocessableEntity(new { errors = new[] { e.Message } });

    /// <summary>
    /// Server-sent events: a "progress" event whenever the job changes, "end" when it is terminal. The stream
    /// also ends when the service begins to stop: the web server waits for open requests before it stops, and
    /// a watcher of a long job would otherwise hold shutdown until the timeout. Clients reconnect or poll.
    /// </summary>
    private static async Task Events(string id, HttpContext context, IJobStore store, IHostApplicationLifetime lifetime, CancellationToken aborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, lifetime.ApplicationStopping);
        var ct = linked.Token;
        if (await store.GetAsync(id, ct) is null) { context.Response.StatusCode = 404; return; }
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        string? last = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var job = await store.GetAsync(id, ct);
                if (job is null) break;
                var data = JsonSerializer.Serialize(job, ServiceJson.Options);
                if (data != last)
                {
                    await context.Response.WriteAsync($"event: {(job.State.IsTerminal() ? "end" : "progress")}\ndata: {data}\n\n", ct);
                    await context.Response.Body.FlushAsync(ct);
                    last = data;
                }
                if (job.State.IsTerminal()) break;
                await Task.Delay(500, ct);
            }
        }
        catch (OperationCanceledException) { /* the client went away, or the service is stopping */ }
    }

    private static async Task<IResult> MetricsCsv(string id, IJobStore store, CancellationToken ct)
    {
        if (await store.GetAsync(id, ct) is null) return NotFound(id);
        var history = await store.GetMetricHistoryAsync(id, ct: ct);
        var names = history.SelectMany(p => p.Metrics.Keys).Distinct().OrderBy(n => n, StringComparer.Ordinal).ToList();
        var sb = new StringBuilder("step");
        foreach (var n in names) sb.Append(',').Append(n);
        sb.Append('\n');
        foreach (var p in history)
        {
            sb.Append(p.Step);
            foreach (var n in names) sb.Append(',').Append(p.Metrics.TryGetValue(n, out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : "");
            sb.Append('\n');
        }
        return Results.File(Encoding.UTF8.GetBytes(sb.ToString()), "text/csv", $"{id}-metrics.csv");
    }

    /// <summary>Reads query parameter <paramref name="name"/> as a whole number (null when absent or empty); a 400 naming
    /// the parameter and its value when it is not one, else null.</summary>
    private static IResult? BadQuery(string name, string? text, out long? value)
    {
        value = null;
        if (string.IsNullOrEmpty(text)) return null;
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) { value = n; return null; }
        return Results.BadRequest(new { errors = new[] { $"{name}: '{text}' is not a whole number (query parameter ?{name}=)" } });
    }

    private static IResult NotFound(string id) => Results.NotFound(new { error = $"no job with id '{id}'" });
}
