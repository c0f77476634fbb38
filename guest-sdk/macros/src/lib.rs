//! Procedural macros of the wasmpipe guest SDK: `#[component]` and `#[derive(Outputs)]`.
//!
//! Use them through `wasmpipe_guest`, which documents them; the expansions refer to items of
//! `wasmpipe_guest::__private`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, Expr, Fields, FnArg, GenericArgument, ItemFn, Lit, Meta, Pat, PathArguments,
    ReturnType, Type, parse_macro_input,
};

/// Turns a plain function into a wasmpipe component: see the `wasmpipe_guest` crate docs.
#[proc_macro_attribute]
pub fn component(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        let attr = Tokens::from(attr);
        return syn::Error::new(attr.span(), "#[component] takes no arguments").to_compile_error().into();
    }
    let mut func = parse_macro_input!(item as ItemFn);
    match expand_component(&mut func) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// One argument of the component function.
struct Arg {
    ident: syn::Ident,
    ty: Type,
    default: Option<Expr>,
    is_context: bool,
}

fn expand_component(func: &mut ItemFn) -> syn::Result<Tokens> {
    let fn_name = func.sig.ident.clone();
    let mut args = Vec::new();
    for input in func.sig.inputs.iter_mut() {
        let FnArg::Typed(typed) = input else {
            return Err(syn::Error::new(input.span(), "a component is a free function, not a method"));
        };
        let Pat::Ident(pat) = &*typed.pat else {
            return Err(syn::Error::new(typed.pat.span(), "name each argument: it becomes the input's name"));
        };
        let mut default = None;
        let mut kept = Vec::new();
        for attr in typed.attrs.drain(..) {
            if attr.path().is_ident("default") {
                default = Some(attr.parse_args::<Expr>()?);
            } else {
                kept.push(attr);
            }
        }
        typed.attrs = kept;
        let is_context = last_segment_is(&typed.ty, "Context");
        args.push(Arg { ident: pat.ident.clone(), ty: (*typed.ty).clone(), default, is_context });
    }

    let description = doc_string(&func.attrs);
    let name = fn_name.unraw().to_string();
    let (ok_ty, returns_result) = match &func.sig.output {
        ReturnType::Default => (syn::parse_quote!(()), false),
        ReturnType::Type(_, ty) => match result_ok_type(ty) {
            Some(ok) => (ok, true),
            None => ((**ty).clone(), false),
        },
    };

    let p = quote!(::wasmpipe_guest::__private);
    let defaults: Vec<Tokens> = args
        .iter()
        .map(|a| {
            let ty = &a.ty;
            match &a.default {
                Some(expr) => {
                    quote_spanned!(expr.span()=> ::core::option::Option::Some(#p::default_value::<#ty>(#expr)))
                }
                None => quote!(::core::option::Option::None),
            }
        })
        .collect();
    let specs = args.iter().zip(&defaults).filter(|(a, _)| !a.is_context).map(|(a, d)| {
        let ty = &a.ty;
        let name = a.ident.unraw().to_string();
        quote_spanned!(ty.span()=> #p::input_spec::<#ty>(#name, #d))
    });
    let takes = args.iter().zip(&defaults).map(|(a, d)| {
        let (ident, ty) = (&a.ident, &a.ty);
        let name = ident.unraw().to_string();
        if a.is_context {
            quote!(let #ident: #ty = ::core::clone::Clone::clone(&ctx);)
        } else {
            quote_spanned!(ty.span()=> let #ident = #p::take_input::<#ty>(&mut inputs, #name, #d)?;)
        }
    });
    let idents = args.iter().map(|a| &a.ident);
    let finish = if returns_result {
        quote!(match result {
            ::core::result::Result::Ok(outputs) =>
                ::core::result::Result::Ok(::wasmpipe_guest::Outputs::into_outputs(outputs)),
            ::core::result::Result::Err(e) => ::core::result::Result::Err(::std::string::ToString::to_string(&e)),
        })
    } else {
        quote!(::core::result::Result::Ok(::wasmpipe_guest::Outputs::into_outputs(result)))
    };

    Ok(quote! {
        #func

        #[doc(hidden)]
        struct __WasmpipeComponent;

        impl #p::Guest for __WasmpipeComponent {
            fn describe() -> #p::Signature {
                #p::Signature {
                    name: ::std::string::String::from(#name),
                    description: ::std::string::String::from(#description),
                    inputs: ::std::vec![#(#specs),*],
                    outputs: <#ok_ty as ::wasmpipe_guest::Outputs>::specs(),
                }
            }

            #[allow(unused_mut, unused_variables)]
            fn run(
                ctx: #p::Context,
                mut inputs: ::std::vec::Vec<(::std::string::String, #p::InputValue)>,
            ) -> ::core::result::Result<::std::vec::Vec<(::std::string::String, #p::OutputValue)>, ::std::string::String> {
                #(#takes)*
                let result = #fn_name(#(#idents),*);
                #finish
            }
        }

        #p::export!(__WasmpipeComponent);
    })
}

/// Derives `wasmpipe_guest::Outputs` for a struct: one output per field, named after it.
#[proc_macro_derive(Outputs)]
pub fn derive_outputs(item: TokenStream) -> TokenStream {
    let input = parse_macro_input!(item as DeriveInput);
    let Data::Struct(data) = &input.data else {
        return syn::Error::new(input.span(), "#[derive(Outputs)] needs a struct with named fields")
            .to_compile_error()
            .into();
    };
    let Fields::Named(fields) = &data.fields else {
        return syn::Error::new(input.span(), "#[derive(Outputs)] needs a struct with named fields")
            .to_compile_error()
            .into();
    };
    let p = quote!(::wasmpipe_guest::__private);
    let specs = fields.named.iter().map(|f| {
        let name = f.ident.as_ref().map(|i| i.unraw().to_string()).unwrap_or_default();
        let ty = &f.ty;
        let doc = doc_string(&f.attrs);
        quote!(#p::OutputSpec {
            name: ::std::string::String::from(#name),
            type_: <#ty as ::wasmpipe_guest::OutputType>::port_type(),
            description: ::std::string::String::from(#doc),
        })
    });
    let values = fields.named.iter().map(|f| {
        let ident = &f.ident;
        let name = ident.as_ref().map(|i| i.unraw().to_string()).unwrap_or_default();
        quote!((::std::string::String::from(#name), ::wasmpipe_guest::OutputType::into_output(self.#ident)))
    });
    let ty = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        impl #impl_generics ::wasmpipe_guest::Outputs for #ty #ty_generics #where_clause {
            fn specs() -> ::std::vec::Vec<#p::OutputSpec> {
                ::std::vec![#(#specs),*]
            }
            fn into_outputs(self) -> ::std::vec::Vec<(::std::string::String, #p::OutputValue)> {
                ::std::vec![#(#values),*]
            }
        }
    }
    .into()
}

/// The doc comment of an item, lines joined, trimmed.
fn doc_string(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(lit) => match &lit.lit {
                    Lit::Str(s) => Some(s.value().trim().to_string()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect();
    lines.join("\n").trim().to_string()
}

/// `T` when `ty` is written `Result<T, E>`.
fn result_ok_type(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(ok) => Some(ok.clone()),
        _ => None,
    }
}

fn last_segment_is(ty: &Type, name: &str) -> bool {
    match ty {
        Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == name),
        _ => false,
    }
}
