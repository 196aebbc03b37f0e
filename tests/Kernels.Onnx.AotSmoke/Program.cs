using System.Runtime.InteropServices;
using Kernels.Onnx;

// Usage: Kernels.Onnx.AotSmoke FIXTURES_DIR NAME...: loads each NAME.onnx, runs NAME.in.bin, compares with NAME.out.bin
// (torch's output) within 1e-4 of its range, and exports a model of its own and reads it back. Exit code 0 when all agree.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Kernels.Onnx.AotSmoke FIXTURES_DIR NAME...");
    return 2;
}
int failures = 0;
foreach (string name in args.Skip(1))
{
    string path = Path.Combine(args[0], name);
    OnnxModel model = OnnxModel.Load(path + ".onnx", new OnnxModelOptions { MaxDegreeOfParallelism = 2 });
    float[] x = Floats(path + ".in.bin"), expected = Floats(path + ".out.bin");
    long perSample = model.InputLength(1);
    float[] y = new float[model.OutputLength((int)(x.Length / perSample))];
    model.Run(x, y);
    double scale = expected.Max(v => Math.Abs(v)), worst = expected.Zip(y, (e, a) => Math.Abs(e - a)).Max();
    bool ok = worst <= 1e-4 * scale + 1e-6;
    Console.WriteLine($"{name}: max |difference| {worst:G3} on outputs up to {scale:G3}: {(ok ? "ok" : "FAILED")}");
    if (!ok) failures++;
}
var net = new Kernels.Nn.ThreeLayerConvNet<float>(new Kernels.Nn.FastKernels(), new Kernels.Nn.ConvNetOptions(1, 12, 12, 4, 3, 8, 5));
OnnxModel exported = OnnxModel.Load(OnnxExport.ToBytes(net), "exported");
float[] image = new float[144], scores = new float[5], direct = net.Scores(Kernels.NchwTensor<float>.Wrap(new float[144], new Kernels.Shape4(1, 1, 12, 12))).Span.ToArray();
exported.Run(image, scores);
bool same = scores.Zip(direct, (a, b) => Math.Abs(a - b)).Max() <= 1e-5;
Console.WriteLine($"export and reload: {(same ? "ok" : "FAILED")}");
return failures == 0 && same ? 0 : 1;

static float[] Floats(string file) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(file)).ToArray();
