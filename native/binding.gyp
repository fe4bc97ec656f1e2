{
  "targets": [
    {
      "target_name": "saeboard_native",
      "sources": [
        "src/saeboard_native.c"
      ],
      "defines": [
        "NAPI_VERSION=8"
      ],
      "cflags_c": [
        "-O3",
        "-std=gnu11",
        "-fno-math-errno",
        "-fno-trapping-math",
        "-ffp-contract=off",
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter"
      ],
      "libraries": [
        "-lopenblas",
        "-lpthread",
        "-lm"
      ]
    },
    {
      "target_name": "saeboard_sae",
      "sources": [
        "sae/sae_step.c"
      ],
      "defines": [
        "NAPI_VERSION=8"
      ],
      "cflags_c": [
        "-O3",
        "-std=gnu11",
        "-fopenmp-simd",
        "-fno-math-errno",
        "-ffp-contract=off",
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter"
      ],
      "libraries": [
        "-lopenblas",
        "-lpthread",
        "-lm"
      ]
    }
  ]
}
