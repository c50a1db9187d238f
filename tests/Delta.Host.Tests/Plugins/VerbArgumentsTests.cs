using Delta.Abstractions.Plugins;

namespace Delta.Host.Tests.Plugins;

/// <summary>The argument parser plugin verbs share: both value forms, flags, and the errors users see.</summary>
public sealed class VerbArgumentsTests
{
    private static readonly string[] Known = ["epochs", "lr", "out"];
    private static readonly string[] Flags = ["json", "skip-paint"];

    [Fact]
    public void BothValueFormsAndFlagsAreRead()
    {
        var a = new VerbArguments(["--epochs", "3", "--lr=0.05", "--JSON", "--out", "a=b"], Known, Flags);
        Assert.Equal(3, a.Int("epochs", 1, 1, 10));
        Assert.Equal(0.05, a.Double("lr", 1, 0, 1));
        Assert.Equal("a=b", a.String("out", "x"));                     // '=' inside a separate value is kept
        Assert.True(a.Has("json"));
        Assert.False(a.Has("skip-paint"));
        Assert.Equal("fallback", a.String("missing", "fallback"));
        Assert.Equal(7, new VerbArguments([], Known).Int("epochs", 7, 1, 10));
    }

    [Theory]
    [InlineData(new[] { "--nope", "1" }, "Unknown option '--nope'")]
    [InlineData(new[] { "--epochs" }, "--epochs needs a value")]
    [InlineData(new[] { "stray" }, "Unexpected argument 'stray'")]
    [InlineData(new[] { "--json=1" }, "--json is a flag")]
    public void BadArgumentsAreRefusedWithAMessageNamingThem(string[] args, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new VerbArguments(args, Known, Flags));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("epochs", "0")]
    [InlineData("epochs", "2.5")]
    [InlineData("lr", "NaN")]
    [InlineData("lr", "1.5")]
    public void OutOfRangeOrMalformedNumbersAreRefused(string key, string value)
    {
        var a = new VerbArguments([$"--{key}={value}"], Known, Flags);
        var e = Assert.Throws<ArgumentException>(() => { if (key == "epochs") a.Int(key, 1, 1, 10); else a.Double(key, 0.1, 0, 1); });
        Assert.Contains($"--{key} must be", e.Message);
        Assert.Contains(value, e.Message);
    }
}
