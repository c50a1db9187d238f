using Delta.Service.Api;

namespace Delta.Service.Tests.Api;

public sealed class BindingPolicyTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5077", true)]
    [InlineData("http://localhost:5077", true)]
    [InlineData("http://[::1]:5077", true)]
    [InlineData("http://127.0.0.2:80", true)]
    [InlineData("http://0.0.0.0:5077", false)]
    [InlineData("http://*:5077", false)]
    [InlineData("http://+:5077", false)]
    [InlineData("http://[::]:5077", false)]
    [InlineData("http://10.1.2.3:5077", false)]
    [InlineData("http://example.org:5077", false)]
    public void Loopback_is_recognised(string url, bool loopback) => Assert.Equal(loopback, BindingPolicy.IsLoopback(url));

    [Fact]
    public void Off_loopback_without_token_is_refused_and_with_token_allowed()
    {
        var e = Assert.Throws<InvalidOperationException>(() => BindingPolicy.Check(new ServiceOptions { Urls = "http://127.0.0.1:1;http://0.0.0.0:2" }));
        Assert.Contains("0.0.0.0:2", e.Message);
        Assert.Contains("Token", e.Message);
        BindingPolicy.Check(new ServiceOptions { Urls = "http://0.0.0.0:2", Token = "s3cret" });
        BindingPolicy.Check(new ServiceOptions { Urls = "http://127.0.0.1:1" });
    }

    [Fact]
    public void Artifact_paths_are_confined_to_the_roots()
    {
        Assert.True(ArtifactPaths.IsInside("/data/runs/a/m.csv", ["/data/runs"]));
        Assert.False(ArtifactPaths.IsInside("/data/runs/../secrets", ["/data/runs"]));
        Assert.False(ArtifactPaths.IsInside("/data/runs2/x", ["/data/runs"]));
        Assert.False(ArtifactPaths.IsInside("/etc/passwd", ["/data/runs"]));
    }
}
