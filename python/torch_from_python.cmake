# `pip install .` (pyproject.toml sets RS_TORCH_FROM_PYTHON): the engine links the libtorch inside
# the torch package of the Python it is installed into, so that `import torch, reasonscope` holds
# one libtorch per process. find_package(Torch) is not used: for a CUDA build of torch it wants
# the CUDA toolkit, which a user of the wheel need not have (the engine calls ATen only; libtorch.so
# pulls in libtorch_cuda where torch has one). Sets what find_package(Torch) would for src/*:
# TORCH_INCLUDE_DIRS, TORCH_LIBRARIES, plus RS_PY_TORCH_DIR for python/CMakeLists.txt.
find_package(Python REQUIRED COMPONENTS Interpreter Development.Module)
# pip's isolated build environment hides the target environment's site-packages behind a
# sitecustomize read from PYTHONPATH; -I (isolated mode) ignores it and sees the venv's own packages.
set(_rs_probe "import os, torch; print(os.path.dirname(torch.__file__)); print(int(torch._C._GLIBCXX_USE_CXX11_ABI)); print(torch.__version__)")
execute_process(COMMAND ${Python_EXECUTABLE} -c "${_rs_probe}" OUTPUT_VARIABLE _rs_out
                RESULT_VARIABLE _rs_rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _rs_rc EQUAL 0)
  execute_process(COMMAND ${Python_EXECUTABLE} -I -c "${_rs_probe}" OUTPUT_VARIABLE _rs_out
                  RESULT_VARIABLE _rs_rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
if(NOT _rs_rc EQUAL 0)
  message(FATAL_ERROR "reasonscope: ${Python_EXECUTABLE} cannot import torch. Install torch first "
                      "(the extension is compiled against it), or build with "
                      "`pip install --no-build-isolation .` from an environment that has it.")
endif()
string(REPLACE "\n" ";" _rs_out "${_rs_out}")
list(GET _rs_out 0 RS_PY_TORCH_DIR)
list(GET _rs_out 1 _rs_abi)
list(GET _rs_out 2 RS_PY_TORCH_VERSION)
message(STATUS "reasonscope: torch ${RS_PY_TORCH_VERSION} at ${RS_PY_TORCH_DIR} (CXX11 ABI ${_rs_abi})")
set(TORCH_INCLUDE_DIRS ${RS_PY_TORCH_DIR}/include ${RS_PY_TORCH_DIR}/include/torch/csrc/api/include)
set(TORCH_LIBRARIES)
foreach(lib torch torch_cpu c10)
  find_library(RS_PY_${lib}_LIBRARY ${lib} PATHS ${RS_PY_TORCH_DIR}/lib NO_DEFAULT_PATH REQUIRED)
  list(APPEND TORCH_LIBRARIES ${RS_PY_${lib}_LIBRARY})
endforeach()
add_compile_definitions(_GLIBCXX_USE_CXX11_ABI=${_rs_abi})
