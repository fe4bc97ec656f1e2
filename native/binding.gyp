{
  "targets": [
    {
      "target_name": "saeboard_native",
      "sources": [
        "src/saeboard_native.c",
        "gemm/own_sgemm.c"
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
        "-lpthread",
        "-lm"
      ],
      "conditions": [
        [
          "saeboard_blas=='none'",
          {
            "defines": [
              "SAEBOARD_OWN_SGEMM=1"
            ]
          },
          {
            "libraries": [
              "-lopenblas"
            ]
          }
        ]
      ]
    },
    {
      "target_name": "saeboard_sae",
      "sources": [
        "sae/sae_step.c",
        "gemm/own_sgemm.c"
      ],
      "defines": [
        "NAPI_VERSION=8"
      ],
      # -fno-trapping-math: nothing here reads FP exception flags, and without it GCC will not
      # if-convert the branch-free selects of sae_step.c's power loops (pow_pos), so they stay scalar.
      # It changes no results (no reassociation, no contraction).
      "cflags_c": [
        "-O3",
        "-std=gnu11",
        "-fopenmp-simd",
        "-fno-math-errno",
        "-fno-trapping-math",
        "-ffp-contract=off",
        "-Wall",
        "-Wextra",
        "-Wno-unused-parameter"
      ],
      "libraries": [
        "-lpthread",
        "-lm"
      ],
      "conditions": [
        [
          "saeboard_blas=='none'",
          {
            "defines": [
              "SAEBOARD_OWN_SGEMM=1"
            ]
          },
          {
            "libraries": [
              "-lopenblas"
            ]
          }
        ]
      ]
    }
  ],
  "variables": {
    "saeboard_blas%": "<!(node -p \"process.env.SAEBOARD_BLAS === 'none' ? 'none' : 'openblas'\")"
  }
}
