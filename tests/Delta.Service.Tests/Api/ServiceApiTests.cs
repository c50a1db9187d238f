using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;
using Delta.Service.Jobs;
using Delta.Service.Tests.Support;

namespace Delta.Service.Tests.Api;

public sealed class ServiceApiTests : IDisposable
{
    private readonly TempDir dir = new();
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Job_lifecycle_over_http_progress_logs_events_artifacts_and_status_page()
    {
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path));
        var json = ApiCalls.Job("life", steps: 30, seed: 5);
        var job = await ApiCalls.Submit(svc.Http, json);
        Assert.Equal(JobState.Queued, job.State);

        // SSE: progress events while it runs, "end" when it is done.
        using var events = await svc.Http.GetAsync($"/api/jobs/{job.Id}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType!.MediaType);
        var stream = await events.Content.ReadAsStringAsync();
        Assert.Contains("event: end", stream);
        Assert.Contains("\"state\":\"succeeded\"", stream);

        var done = await ApiCalls.WaitFor(svc.Http, job.Id, j => j.State.IsTerminal(), Timeout, "finished");
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(30, done.Progress!.Step);
        var expected = await Reference.RunAsync(json);
        Assert.Equal(expected["final_loss"], done.Metrics["final_loss"]);
        Assert.Equal(expected["w0"], done.Metrics["w0"]);

        var logs = await svc.Http.GetStringAsync($"/api/jobs/{job.Id}/logs");
        Assert.Contains("started on test-host", logs);
        Assert.Contains("succeeded", logs);

        var csv = (await svc.Http.GetStringAsync($"/api/jobs/{job.Id}/metrics.csv")).Trim().Split('\n');
        Assert.Equal("step,loss", csv[0]);
        Assert.Equal(31, csv.Length); // header + one row per step

        var artifact = await svc.Http.GetStringAsync($"/api/jobs/{job.Id}/artifacts/0");
        Assert.Equal(expected["final_loss"], JsonSerializer.Deserialize<Dictionary<string, double>>(artifact)!["final_loss"]);
        Assert.Equal(HttpStatusCode.NotFound, (await svc.Http.GetAsync($"/api/jobs/{job.Id}/artifacts/7")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await svc.Http.GetAsync("/api/jobs/nope")).StatusCode);

        var page = await svc.Http.GetStringAsync("/");
        Assert.Contains("<b>life</b>", page);
        Assert.Contains("class=\"succeeded\"", page);
        Assert.Contains("<polyline", page);
        var svg = await svc.Http.GetStringAsync($"/api/jobs/{job.Id}/metrics.svg");
        Assert.StartsWith("<svg", svg);
    }

    [Fact]
    public async Task Invalid_job_is_rejected_with_the_key_named_and_nothing_enqueued()
    {
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path));
        var r = await ApiCalls.PostJob(svc.Http, """{"name":"x","steps":-3,"typo":1}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("typo", await r.Content.ReadAsStringAsync());
        r = await ApiCalls.PostJob(svc.Http, """{"name":"x","steps":-3}""");
        Assert.Contains("steps: must be > 0", await r.Content.ReadAsStringAsync());
        Assert.Empty(await ApiCalls.List(svc.Http));
    }

    /// <summary>A job file over the limit is refused with 413 whether or not the request says its length. Before, only a
    /// Content-Length over the limit was: a chunked body was read whole, up to Kestrel's 30 MB, and a valid job padded
    /// past the limit was queued (and a body over 30 MB logged an unhandled exception).</summary>
    [Fact]
    public async Task A_job_over_the_size_limit_is_refused_with_413_also_when_sent_without_a_length()
    {
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path));
        var padded = ApiCalls.Job("padded") + new string(' ', Delta.Service.Api.JobsApi.MaxJobBytes);
        foreach (var chunked in new[] { false, true })
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(padded);
            HttpContent content = chunked ? new StreamContent(new NonSeekableStream(bytes)) : new ByteArrayContent(bytes);
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = content };
            request.Headers.TransferEncodingChunked = chunked;
            var r = await svc.Http.SendAsync(request);
            Assert.True(r.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"chunked={chunked}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            Assert.Contains($"job larger than {Delta.Service.Api.JobsApi.MaxJobBytes} bytes", await r.Content.ReadAsStringAsync());
        }
        Assert.Empty(await ApiCalls.List(svc.Http));
        Assert.Equal(HttpStatusCode.Created, (await ApiCalls.PostJob(svc.Http, ApiCalls.Job("padded"))).StatusCode);   // the same job unpadded
    }

    /// <summary>A stream with no length, so that HttpClient sends the body chunked.</summary>
    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    [Fact]
    public async Task Cancel_stops_a_running_job_within_seconds()
    {
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path));
        var job = await ApiCalls.Submit(svc.Http, ApiCalls.Job("long", steps: 100_000, delayMs: 10));
        await ApiCalls.WaitFor(svc.Http, job.Id, j => j.Progress?.Step > 3, Timeout, "running");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Accepted, (await svc.Http.PostAsync($"/api/jobs/{job.Id}/cancel", null)).StatusCode);
        var done = await ApiCalls.WaitFor(svc.Http, job.Id, j => j.State.IsTerminal(), TimeSpan.FromSeconds(5), "cancelled");
        Assert.Equal(JobState.Cancelled, done.State);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"cancel took {sw.Elapsed}");
        Assert.True(done.Progress!.Step < 100_000);
    }

    /// <summary>202 (accepted, not done) only for a running job, whose cancel its heartbeat carries out later. A job that
    /// has ended is left as it is and a queued one is cancelled at once: 200 with the job. Before, both got 202.</summary>
    [Fact]
    public async Task Cancel_of_an_ended_or_queued_job_answers_200_with_the_job_as_it_is_now()
    {
        var options = InProcessService.FastOptions(dir.Path);
        await using var svc = await InProcessService.StartAsync(options);
        var ended = await ApiCalls.Submit(svc.Http, ApiCalls.Job("short", steps: 3));
        await ApiCalls.WaitFor(svc.Http, ended.Id, j => j.State.IsTerminal(), Timeout, "finished");
        var r = await svc.Http.PostAsync($"/api/jobs/{ended.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("\"state\":\"succeeded\"", await r.Content.ReadAsStringAsync());

        var running = await ApiCalls.Submit(svc.Http, ApiCalls.Job("blocker", steps: 100_000, delayMs: 10));
        await ApiCalls.WaitFor(svc.Http, running.Id, j => j.State == JobState.Running, Timeout, "running");
        var queued = await ApiCalls.Submit(svc.Http, ApiCalls.Job("waiting"));
        r = await svc.Http.PostAsync($"/api/jobs/{queued.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("\"state\":\"cancelled\"", await r.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Accepted, (await svc.Http.PostAsync($"/api/jobs/{running.Id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Crashing_jobs_fail_with_their_reason_and_the_service_runs_the_next_job()
    {
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path));
        var crash = await ApiCalls.Submit(svc.Http, ApiCalls.Job("crash", steps: 10, failAt: 4));
        var nan = await ApiCalls.Submit(svc.Http, ApiCalls.Job("nan", steps: 10, nanAt: 2));
        var good = await ApiCalls.Submit(svc.Http, ApiCalls.Job("good", steps: 10));
        var g = await ApiCalls.WaitFor(svc.Http, good.Id, j => j.State.IsTerminal(), Timeout, "finished");
        Assert.Equal(JobState.Succeeded, g.State);
        var c = await ApiCalls.Get(svc.Http, crash.Id);
        Assert.Equal(JobState.Failed, c.State);
        Assert.Equal("InvalidOperationException: injected failure at step 4", c.Error);
        var n = await ApiCalls.Get(svc.Http, nan.Id);
        Assert.Equal(JobState.Failed, n.State);
        Assert.StartsWith("NonFiniteLossException: Non-finite loss at step 2: loss=NaN", n.Error);
    }

    [Fact]
    public async Task Out_of_memory_in_a_job_fails_only_that_job()
    {
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path), new ThrowingExecutor());
        var oom = await ApiCalls.Submit(svc.Http, ApiCalls.Job("oom"));
        var d = await ApiCalls.WaitFor(svc.Http, oom.Id, j => j.State.IsTerminal(), Timeout, "finished");
        Assert.Equal(JobState.Failed, d.State);
        Assert.StartsWith("OutOfMemoryException:", d.Error);
        var next = await ApiCalls.Submit(svc.Http, ApiCalls.Job("next"));
        Assert.Equal(JobState.Failed, (await ApiCalls.WaitFor(svc.Http, next.Id, j => j.State.IsTerminal(), Timeout, "finished")).State);
        Assert.Equal(2, ThrowingExecutor.Calls);
    }

    [Fact]
    public async Task Artifacts_outside_the_served_folders_are_refused()
    {
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path), new OutsideArtifactExecutor());
        var job = await ApiCalls.Submit(svc.Http, ApiCalls.Job("escape"));
        await ApiCalls.WaitFor(svc.Http, job.Id, j => j.State == JobState.Succeeded, Timeout, "succeeded");
        Assert.Equal(HttpStatusCode.Forbidden, (await svc.Http.GetAsync($"/api/jobs/{job.Id}/artifacts/0")).StatusCode);
    }

    [Fact]
    public async Task Two_hundred_concurrent_submissions_none_lost_or_duplicated()
    {
        // The one worker holds the first job it claims until the service stops, so the rest stay queued and the count
        // checks only the submission path (a job for a device no worker serves is refused now, so that cannot hold them).
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path), new HoldingExecutor());
        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => ApiCalls.Submit(svc.Http, ApiCalls.Job($"c{i:D3}")))));
        Assert.Equal(200, responses.Select(r => r.Id).Distinct().Count());
        var listed = await ApiCalls.List(svc.Http);
        Assert.Equal(200, listed.Count);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"c{i:D3}"), listed.Select(j => j.Name).Order());

        // The same idempotency key 50 times at once: one job.
        var same = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => ApiCalls.PostJob(svc.Http, ApiCalls.Job("dup"), "key-1"))));
        Assert.Equal(1, same.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(49, same.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(201, (await ApiCalls.List(svc.Http)).Count);
    }

    /// <summary>A second job with the name of one that has not ended is refused with 409 naming that job, also when many race
    /// (exactly one gets in); the retry of an accepted submission still gets its job; once the job has ended the name is free.</summary>
    [Fact]
    public async Task A_job_named_like_one_that_has_not_ended_is_refused_naming_it()
    {
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path), new HoldingExecutor());
        var running = await ApiCalls.Submit(svc.Http, ApiCalls.Job("held"));
        await ApiCalls.WaitFor(svc.Http, running.Id, j => j.State == JobState.Running, Timeout, "running");
        var r = await ApiCalls.PostJob(svc.Http, ApiCalls.Job("held", steps: 5));
        Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
        Assert.Contains($"name: job {running.Id} (running) already has the name 'held'", await r.Content.ReadAsStringAsync());

        var raced = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(() => ApiCalls.PostJob(svc.Http, ApiCalls.Job("raced", seed: i)))));
        var accepted = Assert.Single(raced, x => x.StatusCode == HttpStatusCode.Created);
        var winner = System.Text.Json.JsonSerializer.Deserialize<JobRecord>(await accepted.Content.ReadAsStringAsync(), Delta.Service.Api.ServiceJson.Options)!;
        foreach (var refused in raced.Where(x => x != accepted))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains($"job {winner.Id} (queued)", await refused.Content.ReadAsStringAsync());
        }

        var keyed = await ApiCalls.PostJob(svc.Http, ApiCalls.Job("keyed"), "key-keyed");
        Assert.Equal(HttpStatusCode.Created, keyed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ApiCalls.PostJob(svc.Http, ApiCalls.Job("keyed"), "key-keyed")).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await svc.Http.PostAsync($"/api/jobs/{running.Id}/cancel", null)).StatusCode);
        await ApiCalls.WaitFor(svc.Http, running.Id, j => j.State == JobState.Cancelled, Timeout, "cancelled");
        Assert.Equal(HttpStatusCode.Created, (await ApiCalls.PostJob(svc.Http, ApiCalls.Job("held", steps: 5))).StatusCode);
        Assert.Equal(4, (await ApiCalls.List(svc.Http)).Count);
    }

    /// <summary>A retry with the key of a submission that got through returns that job even when the job as written
    /// would now be refused (in `delta serve`: its patch name is taken once it has run; here the validator refuses every
    /// job after the first). Another job sent with the key is refused with 422 naming the key's job: before, it got the
    /// first job back with 200, and the caller took it for its own.</summary>
    [Fact]
    public async Task A_retry_with_a_used_idempotency_key_gets_the_first_job_back_without_being_validated_again_and_another_job_is_refused()
    {
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path), validator: new RefusingAfterTheFirstValidator());
        var json = ApiCalls.Job("once");
        var first = await ApiCalls.PostJob(svc.Http, json, "key-once");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var job = JsonSerializer.Deserialize<JobRecord>(await first.Content.ReadAsStringAsync(), Delta.Service.Api.ServiceJson.Options)!;
        var retry = await ApiCalls.PostJob(svc.Http, json, "key-once");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(job.Id, JsonSerializer.Deserialize<JobRecord>(await retry.Content.ReadAsStringAsync(), Delta.Service.Api.ServiceJson.Options)!.Id);

        var other = await ApiCalls.PostJob(svc.Http, ApiCalls.Job("once", steps: 5), "key-once");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        using var body = JsonDocument.Parse(await other.Content.ReadAsStringAsync());
        Assert.StartsWith($"Idempotency-Key: the key 'key-once' was used for another job ({job.Id})", body.RootElement.GetProperty("errors")[0].GetString());
        Assert.Equal(job.Id, Assert.Single(await ApiCalls.List(svc.Http)).Id);
    }

    /// <summary>Accepts the first job, then refuses every job as a patch name taken by then would be.</summary>
    private sealed class RefusingAfterTheFirstValidator : IJobValidator
    {
        private int calls;
        public JobSubmission Validate(string jobJson, string? idempotencyKey) => Interlocked.Increment(ref calls) == 1
            ? new Delta.Service.TestHost.ToyJobValidator().Validate(jobJson, idempotencyKey)
            : throw new JobValidationException(["name: a patch of this name exists by now"]);
    }

    [Fact]
    public async Task A_job_for_a_device_this_host_does_not_serve_is_rejected_naming_the_served_ones()
    {
        var options = InProcessService.FastOptions(dir.Path);
        options.Devices = ["cpu", "cuda:0"];
        await using var svc = await InProcessService.StartAsync(options);
        var r = await ApiCalls.PostJob(svc.Http, """{"name":"elsewhere","device":"cuda:1"}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Contains("device: 'cuda:1' is not served by this host. Valid: cpu, cuda:0", await r.Content.ReadAsStringAsync());
        Assert.Empty(await ApiCalls.List(svc.Http));
    }

    /// <summary>A query value that is not a number is answered 400 with errors naming the parameter and the value, like
    /// the API's other 400s; before, the answer was 400 with an empty body. Good values still work.</summary>
    [Fact]
    public async Task A_bad_query_value_is_refused_naming_the_parameter_and_the_value()
    {
        await using var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path));
        var job = await ApiCalls.Submit(svc.Http, ApiCalls.Job("queried", steps: 3));
        await ApiCalls.WaitFor(svc.Http, job.Id, j => j.State.IsTerminal(), Timeout, "finished");
        foreach (var (url, expected) in new[]
        {
            ("/api/jobs?limit=abc", "limit: 'abc' is not a whole number"),
            ("/api/jobs?limit=1.5", "limit: '1.5' is not a whole number"),
            ($"/api/jobs/{job.Id}/logs?after=x", "after: 'x' is not a whole number"),
        })
        {
            var r = await svc.Http.GetAsync(url);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            var body = await r.Content.ReadAsStringAsync();
            using var doc = JsonDocument.Parse(body.Length > 0 ? body : "null");
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            Assert.StartsWith(expected, doc.RootElement.GetProperty("errors")[0].GetString());
        }
        Assert.Single(await svc.Http.GetFromJsonAsync<List<JobRecord>>("/api/jobs?limit=1", Delta.Service.Api.ServiceJson.Options) ?? []);
        var logs = await svc.Http.GetFromJsonAsync<List<LogLine>>($"/api/jobs/{job.Id}/logs?after=0", Delta.Service.Api.ServiceJson.Options);
        Assert.True(logs!.Count >= 2);
        Assert.Equal(logs.Skip(1).Select(l => l.Seq), (await svc.Http.GetFromJsonAsync<List<LogLine>>($"/api/jobs/{job.Id}/logs?after={logs[0].Seq}", Delta.Service.Api.ServiceJson.Options))!.Select(l => l.Seq));
    }

    [Fact]
    public async Task With_a_token_every_call_without_it_gets_401_including_off_loopback()
    {
        var ip = OwnNonLoopbackAddress();
        var options = InProcessService.FastOptions(dir.Path);
        options.Token = "s3cret-token";
        options.Urls = ip is null ? "http://127.0.0.1:0" : $"http://{ip}:0";
        await using var svc = await InProcessService.StartAsync(options);
        Assert.Equal(HttpStatusCode.Unauthorized, (await svc.Http.GetAsync("/api/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await svc.Http.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ApiCalls.PostJob(svc.Http, ApiCalls.Job("x"))).StatusCode);
        svc.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await svc.Http.GetAsync("/api/jobs")).StatusCode);
        svc.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-token");
        Assert.Equal(HttpStatusCode.OK, (await svc.Http.GetAsync("/api/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await ApiCalls.PostJob(svc.Http, ApiCalls.Job("x"))).StatusCode);
        // The scheme's name is case-insensitive (RFC 9110, 11.1); before, "bearer <right token>" got 401.
        svc.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("bearer", "s3cret-token");
        Assert.Equal(HttpStatusCode.OK, (await svc.Http.GetAsync("/api/jobs")).StatusCode);
        svc.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("BEARER", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await svc.Http.GetAsync("/api/jobs")).StatusCode);
    }

    [Fact]
    public async Task Refuses_to_start_off_loopback_without_a_token()
    {
        var options = InProcessService.FastOptions(dir.Path);
        options.Urls = "http://0.0.0.0:0";
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => InProcessService.StartAsync(options));
        Assert.Contains("without Service:Token", e.Message);
    }

    [Fact]
    public async Task Graceful_shutdown_checkpoints_and_requeues_and_the_restarted_service_resumes_to_identical_metrics()
    {
        // 250 steps of 30 ms: the stop starts at step 12, with ~7 s of the job still to run, so a slow stop on a loaded
        // machine still lands before the job would end on its own (with 100 steps that margin was ~2.6 s).
        var json = ApiCalls.Job("graceful", steps: 250, seed: 11, delayMs: 30);
        var options = InProcessService.FastOptions(dir.Path);
        string id;
        var stopping = new System.Diagnostics.Stopwatch();
        // A client watching the job's event stream stays connected through the stop: the web server drains open
        // requests before the worker is stopped, so neither may wait for the other (the stream would otherwise
        // hold shutdown until ShutdownTimeoutSeconds and the job would run on uncheckpointed meanwhile).
        using var watcherClient = new HttpClient { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        HttpResponseMessage watcher;
        await using (var svc = await InProcessService.StartAsync(options))
        {
            id = (await ApiCalls.Submit(svc.Http, json)).Id;
            watcher = await watcherClient.GetAsync(new Uri(svc.Http.BaseAddress!, $"/api/jobs/{id}/events"), HttpCompletionOption.ResponseHeadersRead);
            await ApiCalls.WaitFor(svc.Http, id, j => j.Progress?.Step >= 12, Timeout, "at step 12");
            stopping.Start();
        }
        stopping.Stop();
        using (watcher)
        {
            var events = await watcher.Content.ReadAsStringAsync();
            Assert.DoesNotContain("event: end", events); // ended by the stop, not by the job
        }
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(options.ShutdownTimeoutSeconds / 3),
            $"stopping took {stopping.Elapsed.TotalSeconds:F1} s of the {options.ShutdownTimeoutSeconds} s shutdown timeout");

        await using (var svc = await InProcessService.StartAsync(InProcessService.FastOptions(dir.Path)))
        {
            var logs = await svc.Http.GetStringAsync($"/api/jobs/{id}/logs");
            Assert.Contains("checkpoint written", logs);
            Assert.Contains("shutting down: requeued", logs);
            var done = await ApiCalls.WaitFor(svc.Http, id, j => j.State.IsTerminal(), Timeout, "finished");
            Assert.Equal((JobState.Succeeded, 2), (done.State, done.Attempts));
            logs = await svc.Http.GetStringAsync($"/api/jobs/{id}/logs");
            var stoppedAt = long.Parse(System.Text.RegularExpressions.Regex.Match(logs, @"resumed from checkpoint at step (\d+)").Groups[1].Value);
            Assert.InRange(stoppedAt, 12, 249);
            var expected = await Reference.RunAsync(json);
            Assert.Equal(expected["final_loss"], done.Metrics["final_loss"]);
            Assert.Equal(expected["w0"], done.Metrics["w0"]);
            Assert.Equal(expected["bias"], done.Metrics["bias"]);
        }
    }

    private static IPAddress? OwnNonLoopbackAddress() => NetworkInterface.GetAllNetworkInterfaces()
        .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
        .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
        .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        dir.Dispose();
    }

    private sealed class ThrowingExecutor : IJobExecutor
    {
        public static int Calls;
        public Task<JobExecutionResult> ExecuteAsync(JobExecution execution, CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            throw new OutOfMemoryException("simulated allocation failure");
        }
    }

    /// <summary>Runs until the service stops, so one job stays running and everything after it stays queued.</summary>
    private sealed class HoldingExecutor : IJobExecutor
    {
        public async Task<JobExecutionResult> ExecuteAsync(JobExecution execution, CancellationToken ct)
        {
            await Task.Delay(System.Threading.Timeout.Infinite, ct);
            throw new UnreachableException();
        }
    }

    private sealed class OutsideArtifactExecutor : IJobExecutor
    {
        public Task<JobExecutionResult> ExecuteAsync(JobExecution execution, CancellationToken ct) =>
            Task.FromResult(new JobExecutionResult(new Dictionary<string, double>(), ["/etc/hostname"]));
    }
}
