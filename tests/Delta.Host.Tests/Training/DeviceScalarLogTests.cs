using Delta.Abstractions.Training;
using static TorchSharp.torch;

namespace Delta.Host.Tests.Training;

/// <summary>Scalars kept on the device survive their loop's dispose scope and come back in order, exactly.</summary>
public sealed class DeviceScalarLogTests
{
    [Fact]
    public void ValuesSurviveTheLoopScopeAndReadBackInOrder()
    {
        using var log = new DeviceScalarLog();
        for (var i = 0; i < 5; i++)
        {
            using var scope = NewDisposeScope();
            var loss = tensor(new[] { 0.5f * i, 1f }).sum();                 // 0.5 i + 1, a graph-free float scalar
            log.Add(loss);
            log.Add(tensor(new long[] { i * 10L }).sum());                   // an integer count, shape []
        }
        Assert.Equal(10, log.Count);
        Assert.Equal([1, 0, 1.5, 10, 2, 20, 2.5, 30, 3, 40], log.ReadAll());
        Assert.Equal(10, log.ReadAll().Length);                              // reading does not consume
    }

    [Fact]
    public void AddedValuesAreDetachedCopiesNotViewsOfTheirSource()
    {
        using var log = new DeviceScalarLog();
        var w = tensor(new[] { 2f }).requires_grad_();
        var loss = (w * 3).sum();
        log.Add(loss);
        loss.backward();                                                     // the log kept no graph and needs none
        var counter = tensor(new[] { 6.0 });                                 // already float64: must still be copied
        log.Add(counter);
        counter.mul_(10);
        Assert.Equal([6.0, 6.0], log.ReadAll());
        Assert.Empty(new DeviceScalarLog().ReadAll());
    }

    [Fact]
    public void ATensorWithMoreThanOneElementIsRefused()
    {
        using var log = new DeviceScalarLog();
        var e = Assert.Throws<ArgumentException>(() => log.Add(zeros(2, 2)));
        Assert.Contains("[2, 2]", e.Message);
    }
}
