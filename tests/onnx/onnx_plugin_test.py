#!/usr/bin/python3
"""The inference-onnx plugin end to end: real files made by ffmpeg, the
original system's model files, a real database, the real command, mutagen
as the independent reader.

Usage: onnx_plugin_test.py NOMTAG PLUGIN_SO MODELS_DIR
Skips (saying so loudly) when MODELS_DIR has no musicnn/ folder.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import mutagen

NOMTAG, PLUGIN, MODELS = sys.argv[1], sys.argv[2], sys.argv[3]
HAVE_MODELS = os.path.isdir(os.path.join(MODELS, "musicnn"))
PARTY = "musicnn_mood_party-msd-musicnn-1"
VOICE = "musicnn_voice_instrumental-msd-musicnn-1"
HAPPY = "musicnn_mood_happy-msd-musicnn-1"


def sine(path, seconds, hz=128, level=1.0):
    expr = f"{level}*sin(2*PI*{hz}*t)"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc={expr}|{expr}:s=44100:d={seconds}",
                    "-c:a", "flac", path], check=True)


def ours(path):
    out = {}
    for k, v in mutagen.File(path).tags or []:
        if k.lower().startswith("nom:"):
            out.setdefault(k[4:].lower(), []).append(v)
    return out


class Env:
    def __init__(self, settings):
        self.dir = tempfile.mkdtemp(prefix="nomtag-onnx-")
        self.db = os.path.join(self.dir, "nomtag.db")
        self.lib = os.path.join(self.dir, "music")
        os.makedirs(self.lib)
        self.config = os.path.join(self.dir, "plugins.yaml")
        with open(self.config, "w") as f:
            f.write("plugins:\n  - name: format-flac\n"
                    "  - name: storage-sqlite\n"
                    f"  - path: {PLUGIN}\n    settings:\n")
            for line in settings:
                f.write(f"      {line}\n")

    def run(self, *args, check=True):
        p = subprocess.run([NOMTAG, "--config", self.config, "--db", self.db]
                           + list(args), capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"nomtag {' '.join(args)} exited "
                                 f"{p.returncode}:\n{p.stdout}\n{p.stderr}")
        return p

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(HAVE_MODELS, "no musicnn/ under " + MODELS)
class OnnxPluginTest(unittest.TestCase):
    def env(self, *settings):
        e = Env([f"models: {MODELS}", "threads: 2"] + list(settings))
        self.addCleanup(e.close)
        return e

    def analyse_sine(self, env):
        path = os.path.join(env.lib, "sine.flac")
        sine(path, 62)
        short = os.path.join(env.lib, "short.flac")
        sine(short, 30)
        # A file the original system tagged: its keys (labels with spaces)
        # break nomtag's key grammar, are read as nomtag's (spaces as '-')
        # and go on nomtag's first write.
        f = mutagen.File(path)
        f["nom:not happy_" + HAPPY] = "0.5"
        f["TITLE"] = "kept"
        f.save()
        env.run("library", "add", "music", env.lib)
        env.run("scan", "music")
        env.run("analyze", "music")
        env.run("reconcile", "music")
        return ours(path), ours(short), mutagen.File(path)

    def test_published_class_order_scores_a_sine_as_not_party(self):
        env = self.env()
        tags, short, f = self.analyse_sine(env)
        # MODELS.md: a pure 128 Hz sine scores index 0 of mood_party 0.9997
        # and of voice_instrumental 0.959 in the original (its length is
        # not given: this one's 62 s give 0.99967 and 0.963); Essentia
        # publishes those indexes as non_party and instrumental.
        self.assertAlmostEqual(float(tags["not-party-like_" + PARTY][0]),
                               0.9997, delta=0.002)
        self.assertLess(float(tags["party-like_" + PARTY][0]), 0.002, tags)
        self.assertAlmostEqual(float(tags["instrumental-only_" + VOICE][0]),
                               0.959, delta=0.02)
        # Every head, both labels, scores in [0, 1] that sum to about 1.
        heads = [k for k in tags if "_musicnn_" in k]
        self.assertEqual(len(heads), 18, sorted(tags))
        for k in heads:
            self.assertTrue(0 <= float(tags[k][0]) <= 1, k)
        self.assertAlmostEqual(float(tags["happy_" + HAPPY][0]) +
                               float(tags["not-happy_" + HAPPY][0]), 1, 3)
        # The original's key is gone, the foreign title kept.
        self.assertNotIn("not happy_" + HAPPY, tags)
        self.assertEqual(f["TITLE"], ["kept"])
        # Under a minute: skipped, as the original does.
        self.assertFalse([k for k in short if "_musicnn_" in k], short)

    def test_original_class_order_reproduces_the_original_names(self):
        env = self.env("class_order: original", "heads: [mood_party]")
        tags, _, _ = self.analyse_sine(env)
        self.assertAlmostEqual(float(tags["party-like_" + PARTY][0]), 0.9997,
                               delta=0.002)
        # mood_happy is not run here: the original's score of it, read at
        # the scan, is kept under nomtag's key.
        self.assertEqual(sorted(k for k in tags if "_musicnn_" in k),
                         ["not-happy_" + HAPPY, "not-party-like_" + PARTY,
                          "party-like_" + PARTY])
        self.assertEqual(tags["not-happy_" + HAPPY], ["0.5"])

    def refusal(self, models, *settings):
        e = Env([f"models: {models}"] + list(settings))
        self.addCleanup(e.close)
        p = e.run("plugins", check=False)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        [line] = [l for l in (p.stdout + p.stderr).splitlines()
                  if "nomtag-inference-onnx.so" in l]
        return line

    def copy_models(self):
        d = tempfile.mkdtemp(prefix="nomtag-models-")
        self.addCleanup(shutil.rmtree, d, True)
        shutil.copytree(os.path.join(MODELS, "musicnn"),
                        os.path.join(d, "musicnn"))
        return d

    def test_load_errors_name_the_file_and_operator(self):
        self.assertIn("/nonexistent/musicnn", self.refusal("/nonexistent"))
        d = self.copy_models()
        bad = os.path.join(d, "musicnn/heads/softmax/gender-msd-musicnn-1.onnx")
        with open(bad, "wb") as f:
            f.write(b"not a model")
        self.assertIn(bad, self.refusal(d))
        # A head whose graph uses an operator the executor lacks (Exp),
        # written with protoc from text.
        text = ('ir_version: 7 opset_import { version: 13 } graph { '
                'node { input: "x" output: "y" op_type: "Exp" name: "e" } '
                'input { name: "x" type { tensor_type { elem_type: 1 } } } '
                'output { name: "y" type { tensor_type { elem_type: 1 } } } }')
        model = subprocess.run(
            ["protoc", "--proto_path=/usr/include",
             "--encode=onnx.ModelProto", "onnx/onnx.proto"],
            input=text.encode(), capture_output=True, check=True).stdout
        with open(bad, "wb") as f:
            f.write(model)
        line = self.refusal(d)
        self.assertIn(bad, line)
        self.assertIn("Exp", line)
        self.assertIn("'nope'", self.refusal(MODELS, "heads: [nope]"))
        self.assertIn("class_order", self.refusal(MODELS, "class_order: x"))


if __name__ == "__main__":
    if not HAVE_MODELS:
        print(f"*** SKIPPED: no musicnn/ under {MODELS} "
              "(set NOMTAG_MODELS_DIR) ***", file=sys.stderr)
    unittest.main(argv=sys.argv[:1], verbosity=2)
